/**
 * `npm run synth` (scripts/synth.sh) runs the two apps directly instead of through `cdktf synth` and
 * `cdk8s synth`, whose start-up is most of synth's time. It must write what the CLIs write: the real CLIs
 * and the script, with the same spec and secrets, into folders of their own, byte for byte.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { outputTree, runInRoot } from '../support/output-tree';
import { REGISTER_TS, requireTool } from '../support/tools';

let tmp: string;
let env: NodeJS.ProcessEnv;
const out = (name: string) => path.join(tmp, name);

beforeAll(() => {
  requireTool('openssl');
  requireTool('xorriso');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-synth-script-'));
  const spec = path.join(tmp, 'cluster.json');
  fs.writeFileSync(spec, '{}');
  env = { CLUSTER_CONFIG: spec, K8S_LAB_SECRETS_DIR: out('.secrets'), CHECKPOINT_DISABLE: '1' };
  // The CLIs first (the first synth makes the secrets; every later one reuses them), started as a user does.
  runInRoot(process.execPath, ['--require', REGISTER_TS, 'node_modules/cdktf-cli/bundle/bin/cdktf', 'synth', '--output', out('cli-cdktf')], env);
  runInRoot(process.execPath, ['node_modules/cdk8s-cli/bin/cdk8s', 'synth', '--output', out('cli-dist'), '--no-check-upgrade'], env);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("npm run synth writes byte for byte what cdktf synth and cdk8s synth write, and drops a manifest no chart writes any more", () => {
  // GIVEN the script's manifest folder holds a manifest of a chart the app no longer has
  fs.mkdirSync(out('script-dist'));
  fs.writeFileSync(out('script-dist/removed-chart.k8s.yaml'), 'kind: ConfigMap\n');
  // WHEN the script runs into folders of its own
  runInRoot('bash', ['scripts/synth.sh'], { ...env, K8S_LAB_CDKTF_OUT: out('script-cdktf'), K8S_LAB_CDK8S_OUT: out('script-dist') });
  // THEN its Terraform, seed images and manifests are the CLIs', file for file
  const cliTf = outputTree(out('cli-cdktf'));
  expect(Object.keys(cliTf)).toContain('stacks/k8s-lab/cdk.tf.json');
  expect(outputTree(out('script-cdktf'))).toEqual(cliTf);
  const cliDist = outputTree(out('cli-dist'));
  expect(Object.keys(cliDist).length).toBeGreaterThan(0);
  expect(outputTree(out('script-dist'))).toEqual(cliDist);
});
