/**
 * Synthesis is deterministic: the real cdktf app (main.ts) and the real cdk8s app (cdk8s synth),
 * each run twice as separate processes with the same spec and secrets, write byte-identical files.
 * Identical output is what lets `cdktf diff` show no change when nothing changed, and it proves
 * the secrets are reused, not regenerated, on every synth.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SECRETS_FILE } from '../../bootstrap';
import { outputTree as tree, runInRoot as run } from '../support/output-tree';
import { REGISTER_TS, requireTool } from '../support/tools';

let tmp: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  requireTool('openssl');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-synth-twice-'));
  const spec = path.join(tmp, 'cluster.json');
  fs.writeFileSync(spec, '{}');
  env = { CLUSTER_CONFIG: spec, K8S_LAB_SECRETS_DIR: path.join(tmp, '.secrets') };
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('cdktf: main.ts synthesized twice writes byte-identical cdk.tf.json, seed images and admin kubeconfig (the first run makes the secrets and the admin certificate, the second reuses them)', () => {
  // WHEN the app runs twice, each into its own output directory
  const kubeconfigs: string[] = [];
  for (const out of ['cdktf-1', 'cdktf-2']) {
    run(process.execPath, ['--require', REGISTER_TS, 'main.ts'], { ...env, CDKTF_OUTDIR: path.join(tmp, out) });
    kubeconfigs.push(fs.readFileSync(path.join(tmp, 'k8s-lab.kubeconfig'), 'utf8'));
  }
  // THEN
  expect(kubeconfigs[0]).toContain('client-key-data: ');
  expect(kubeconfigs[1]).toBe(kubeconfigs[0]);
  const [first, second] = [tree(path.join(tmp, 'cdktf-1')), tree(path.join(tmp, 'cdktf-2'))];
  expect(Object.keys(first)).toContain('stacks/k8s-lab/cdk.tf.json');
  expect(first['stacks/k8s-lab/cdk.tf.json']).toContain('-seed-');
  expect(Object.keys(first).filter((f) => /^stacks\/k8s-lab\/seeds\/k8s-lab-.+-seed-[0-9a-f]{12}\.iso$/.test(f))).toHaveLength(6);
  expect(second).toEqual(first);
  expect(fs.existsSync(path.join(tmp, '.secrets', 'k8s-lab', SECRETS_FILE))).toBe(true);
});

test('cdk8s: cdk8s synth twice writes identical manifests', () => {
  for (const out of ['cdk8s-1', 'cdk8s-2']) run('npx', ['--no-install', 'cdk8s', 'synth', '--output', path.join(tmp, out), '--no-check-upgrade'], env);
  const [first, second] = [tree(path.join(tmp, 'cdk8s-1')), tree(path.join(tmp, 'cdk8s-2'))];
  expect(Object.keys(first).length).toBeGreaterThan(0);
  expect(Object.keys(first).every((f) => f.endsWith('.k8s.yaml'))).toBe(true);
  expect(second).toEqual(first);
});

test('fails when the output differs: a changed secrets file changes cdk.tf.json', () => {
  // GIVEN new secrets (the old file deleted): the comparison above must be able to fail
  fs.rmSync(path.join(tmp, '.secrets'), { recursive: true, force: true });
  run(process.execPath, ['--require', REGISTER_TS, 'main.ts'], { ...env, CDKTF_OUTDIR: path.join(tmp, 'cdktf-3') });
  expect(tree(path.join(tmp, 'cdktf-3'))).not.toEqual(tree(path.join(tmp, 'cdktf-1')));
});
