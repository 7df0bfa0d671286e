/**
 * Secret-bearing outputs are private however cdktf is started: the real `cdktf synth` CLI, run as a
 * subprocess under the usual umask 022, leaves the stack JSON, the secrets, the admin kubeconfig and
 * Terraform's state files 0600 in 0700 folders (the app sets its umask before writing and fixes the
 * modes of an earlier synth's files). And the real Terraform keeps a state file that exists with
 * 0600 at 0600 when it writes state into it under umask 022 — what lets a bare `cdktf deploy` write
 * no world-readable state.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { kubeconfigPathOf } from '../../bootstrap';
import { prepareStateFiles, stateFilesOf } from '../../host/private-outputs';
import { secretOutputFindings, secretOutputModes } from '../../policy';
import { ROOT, requireTool, runWithTools, terraformBinary } from '../support/tools';

/** The test's own cluster name: its state files at the project root are removed afterwards. */
const CLUSTER = 'k8s-lab-modes';

let tmp: string;
let outDir: string;
let secretsDir: string;
let stateFiles: string[];

/** `npx cdktf synth` (the real CLI, which runs main.ts) in the project root under umask 022. */
function cdktfSynth(): void {
  const run = spawnSync('bash', ['-c', 'umask 022 && exec npx --no-install cdktf synth --output "$1"', 'bash', outDir], {
    cwd: ROOT,
    env: { ...process.env, CLUSTER_CONFIG: path.join(tmp, 'spec.yaml'), K8S_LAB_SECRETS_DIR: secretsDir, CHECKPOINT_DISABLE: '1', CI: '1' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (run.status !== 0) throw new Error(`cdktf synth exited ${run.status}:\n${run.stdout}${run.stderr}`);
}

const modes = () => secretOutputModes({ outDir, secretsClusterDir: path.join(secretsDir, CLUSTER), kubeconfig: kubeconfigPathOf(CLUSTER, secretsDir, {}), stateFiles });
const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8).padStart(4, '0');

beforeAll(() => {
  requireTool('openssl');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-private-outputs-'));
  fs.chmodSync(tmp, 0o755);
  outDir = path.join(tmp, 'cdktf.out');
  secretsDir = path.join(tmp, '.secrets');
  stateFiles = stateFilesOf(CLUSTER, ROOT);
  for (const f of stateFiles) fs.rmSync(f, { force: true });
  fs.writeFileSync(path.join(tmp, 'spec.yaml'), `name: ${CLUSTER}\n`);
});

afterAll(() => {
  for (const f of stateFiles) fs.rmSync(f, { force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('after a real cdktf synth under umask 022', () => {
  test('the stack JSON, manifest, secrets, admin kubeconfig and state files are 0600 in 0700 folders: no findings', () => {
    // WHEN
    cdktfSynth();
    // THEN every path the rule looks at exists and is private
    const entries = modes();
    expect(entries.map((e) => e.path)).toEqual(
      expect.arrayContaining([
        ...['cdktf.out', 'cdktf.out/manifest.json', `cdktf.out/stacks/${CLUSTER}`, `cdktf.out/stacks/${CLUSTER}/cdk.tf.json`].map((p) => path.join(tmp, p)),
        ...[`.secrets/${CLUSTER}/secrets.json`, `.secrets/${CLUSTER}/admin-client.json`, `${CLUSTER}.kubeconfig`].map((p) => path.join(tmp, p)),
        ...stateFiles,
      ]),
    );
    expect(secretOutputFindings(entries)).toEqual([]);
    expect(fs.readFileSync(path.join(outDir, 'stacks', CLUSTER, 'cdk.tf.json'), 'utf8')).toContain('"path": "' + stateFiles[0] + '"');
    // AND the state files are empty (Terraform reads that as "no state yet")
    for (const f of stateFiles) expect(fs.statSync(f).size).toBe(0);
  });

  test('fails when an earlier synth left 0644 files and 0755 folders: the rule finds them, and the next synth makes them private', () => {
    // GIVEN the outputs opened up, as a synth before this change (or a copy) left them
    const json = path.join(outDir, 'stacks', CLUSTER, 'cdk.tf.json');
    fs.chmodSync(json, 0o644);
    fs.chmodSync(path.join(outDir, 'stacks'), 0o755);
    fs.chmodSync(stateFiles[0], 0o644);
    fs.chmodSync(kubeconfigPathOf(CLUSTER, secretsDir, {}), 0o644);
    expect(secretOutputFindings(modes()).map((f) => path.basename(f.file)).sort()).toEqual(['cdk.tf.json', `${CLUSTER}.kubeconfig`, 'stacks', `terraform.${CLUSTER}.tfstate`]);
    // WHEN
    cdktfSynth();
    // THEN
    expect(secretOutputFindings(modes())).toEqual([]);
    expect(mode(json)).toBe('0600');
  });
});

describe('Terraform keeps the mode of a state file that exists', () => {
  /** A stack of one output with a local backend at `state`, applied under umask 022. */
  function applyWithState(dir: string, state: string): void {
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ terraform: { backend: { local: { path: state } } }, output: { secret: { value: 'not-really', sensitive: true } } }));
    const tf = terraformBinary();
    for (const args of [['init', '-input=false', '-no-color'], ['apply', '-auto-approve', '-input=false', '-no-color']]) {
      const run = runWithTools('bash', ['-c', 'umask 022 && exec "$@"', 'bash', tf, `-chdir=${dir}`, ...args]);
      if (run.status !== 0) throw new Error(`${tf} ${args[0]} failed:\n${run.stdout}${run.stderr}`);
    }
  }

  test('an empty 0600 state file made by prepareStateFiles is read as no state, then written with the outputs, still 0600', () => {
    const state = path.join(tmp, 'tf-private', 'terraform.tfstate');
    fs.mkdirSync(path.dirname(state));
    prepareStateFiles([state]);
    applyWithState(path.join(tmp, 'tf-private', 'stack'), state);
    expect(JSON.parse(fs.readFileSync(state, 'utf8')).outputs.secret.value).toBe('not-really');
    expect(mode(state)).toBe('0600');
  });

  test('fails without it: the state Terraform creates under umask 022 is 0644', () => {
    const state = path.join(tmp, 'tf-open', 'terraform.tfstate');
    fs.mkdirSync(path.dirname(state));
    applyWithState(path.join(tmp, 'tf-open', 'stack'), state);
    expect(mode(state)).toBe('0644');
  });
});
