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
import { REGISTER_TS, ROOT, requireTool, runWithTools, terraformBinary } from '../support/tools';
import { fileMode as mode } from '../support/output-tree';

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

/** The outputs' modes; `everything`: also below folders others cannot enter (every entry itself must be private). */
const modes = (everything = false) => secretOutputModes({ outDir, secretsClusterDir: path.join(secretsDir, CLUSTER), kubeconfig: kubeconfigPathOf(CLUSTER, secretsDir, {}), stateFiles }, { everything });

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
    // THEN every path exists and is itself private, also below the closed folders
    const entries = modes(true);
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

  test('fails when an earlier synth or a copy left 0644 files and 0755 folders (secrets too): the rule and npm run policy find them, and the next synth makes them private', () => {
    // GIVEN the outputs opened up, as a synth before this change (or a copy) left them
    const json = path.join(outDir, 'stacks', CLUSTER, 'cdk.tf.json');
    fs.chmodSync(json, 0o644);
    fs.chmodSync(outDir, 0o755);
    fs.chmodSync(path.join(outDir, 'stacks'), 0o755);
    fs.chmodSync(path.join(outDir, 'stacks', CLUSTER), 0o755);
    fs.chmodSync(stateFiles[0], 0o644);
    fs.chmodSync(kubeconfigPathOf(CLUSTER, secretsDir, {}), 0o644);
    // AND the secrets as a copy or a restore under umask 022 would leave them
    const secrets = path.join(secretsDir, CLUSTER, 'secrets.json');
    fs.chmodSync(path.join(secretsDir, CLUSTER), 0o755);
    fs.chmodSync(secrets, 0o644);
    const found = () => secretOutputFindings(modes()).map((f) => path.relative(tmp, f.file)).sort();
    expect(found()).toEqual(expect.arrayContaining([`.secrets/${CLUSTER}`, `cdktf.out/stacks/${CLUSTER}/cdk.tf.json`, `${CLUSTER}.kubeconfig`]));
    // AND npm run policy reports them, and changes no mode (a check writes nothing)
    const policy = spawnSync(process.execPath, ['--require', REGISTER_TS, 'scripts/policy.ts'], {
      cwd: ROOT,
      env: { ...process.env, CLUSTER_CONFIG: path.join(tmp, 'spec.yaml'), K8S_LAB_SECRETS_DIR: secretsDir, CDKTF_OUTDIR: outDir },
      encoding: 'utf8',
    });
    expect(policy.status).toBe(1);
    expect(policy.stdout).toMatch(new RegExp(`\\[secret-outputs-private\\] .*\\.secrets/${CLUSTER}\\b`));
    expect([mode(path.join(secretsDir, CLUSTER)), mode(secrets)]).toEqual(['0755', '0644']);
    // WHEN
    cdktfSynth();
    // THEN
    expect(secretOutputFindings(modes(true))).toEqual([]);
    expect([mode(json), mode(path.join(secretsDir, CLUSTER)), mode(secrets)]).toEqual(['0600', '0700', '0600']);
  });
});

test('a folder others cannot enter hides what is in it: a 0755 .terraform/ in the 0700 stack folder is no finding, in a 0755 one it is', () => {
  // GIVEN what terraform init makes under umask 022 inside the stack folder (a bare cdktf deploy),
  // below folders that others may enter
  const stack = path.join(outDir, 'stacks', CLUSTER);
  fs.mkdirSync(path.join(stack, '.terraform'), { mode: 0o755 });
  fs.chmodSync(path.join(stack, '.terraform'), 0o755);
  fs.writeFileSync(path.join(stack, '.terraform.lock.hcl'), '', { mode: 0o644 });
  for (const d of [outDir, path.join(outDir, 'stacks')]) fs.chmodSync(d, 0o755);
  fs.chmodSync(stack, 0o700);
  const found = () => secretOutputFindings(modes()).map((f) => path.relative(tmp, f.file)).sort();
  expect(found()).toEqual(['cdktf.out', 'cdktf.out/stacks']);
  // WHEN the stack folder is opened too
  fs.chmodSync(stack, 0o755);
  // THEN what is in it is exposed
  expect(found()).toEqual(['cdktf.out', 'cdktf.out/stacks', `cdktf.out/stacks/${CLUSTER}`, `cdktf.out/stacks/${CLUSTER}/.terraform`, `cdktf.out/stacks/${CLUSTER}/.terraform.lock.hcl`]);
  for (const d of [outDir, path.join(outDir, 'stacks'), stack]) fs.chmodSync(d, 0o700);
});

describe('Terraform keeps the mode of a state file that exists', () => {
  /** A stack of one output (`value`) with a local backend at `state`, applied under umask 022. */
  function applyWithState(dir: string, state: string, value = 'not-really'): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ terraform: { backend: { local: { path: state } } }, output: { secret: { value, sensitive: true } } }));
    const tf = terraformBinary();
    for (const args of [['init', '-input=false', '-no-color'], ['apply', '-auto-approve', '-input=false', '-no-color']]) {
      const run = runWithTools('bash', ['-c', 'umask 022 && exec "$@"', 'bash', tf, `-chdir=${dir}`, ...args]);
      if (run.status !== 0) throw new Error(`${tf} ${args[0]} failed:\n${run.stdout}${run.stderr}`);
    }
  }

  test('empty 0600 state and backup files made by prepareStateFiles: read as no state, then written (the backup on the second apply), both still 0600', () => {
    const state = path.join(tmp, 'tf-private', 'terraform.tfstate');
    const backup = `${state}.backup`;
    fs.mkdirSync(path.dirname(state));
    prepareStateFiles([state, backup]);
    applyWithState(path.join(tmp, 'tf-private', 'stack'), state);
    expect(JSON.parse(fs.readFileSync(state, 'utf8')).outputs.secret.value).toBe('not-really');
    applyWithState(path.join(tmp, 'tf-private', 'stack'), state, 'changed');
    expect(JSON.parse(fs.readFileSync(backup, 'utf8')).outputs.secret.value).toBe('not-really');
    expect([mode(state), mode(backup)]).toEqual(['0600', '0600']);
  });

  test('fails without it: the state Terraform creates under umask 022 is 0644', () => {
    const state = path.join(tmp, 'tf-open', 'terraform.tfstate');
    fs.mkdirSync(path.dirname(state));
    applyWithState(path.join(tmp, 'tf-open', 'stack'), state);
    expect(mode(state)).toBe('0644');
  });
});
