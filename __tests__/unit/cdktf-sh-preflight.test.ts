/**
 * scripts/cdktf.sh runs the preflight before `cdktf deploy`, and --skip-preflight or
 * K8S_LAB_SKIP_PREFLIGHT=1 turns it off. Run on a copy of the script with stand-ins for `node` and
 * `npx` that only log their arguments, so nothing is deployed and no tool is needed.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../support/tools';

let work: string;

beforeAll(() => {
  // GIVEN a copy of cdktf.sh and lib.sh, a .tools/env, and logging stand-ins for node and npx
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdktf-sh-'));
  fs.mkdirSync(path.join(work, 'scripts'));
  for (const f of ['cdktf.sh', 'lib.sh']) fs.copyFileSync(path.join(ROOT, 'scripts', f), path.join(work, 'scripts', f));
  fs.mkdirSync(path.join(work, '.tools'));
  fs.writeFileSync(path.join(work, '.tools', 'env'), '');
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> "$STUB_LOG"\n${body}\n`, { mode: 0o755 });
  stub('node', 'case "$*" in *scripts/preflight.ts*) exit "${PREFLIGHT_EXIT:-0}" ;; esac');
  stub('npx', 'exit 0');
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Runs cdktf.sh with `args`; returns its exit status, stderr and the stand-ins' log, one call a line. */
function cdktfSh(args: string[], env: NodeJS.ProcessEnv = {}) {
  const log = path.join(work, `log-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(log, '');
  const base = { ...process.env };
  delete base.K8S_LAB_SKIP_PREFLIGHT;
  const run = spawnSync('bash', ['scripts/cdktf.sh', ...args], {
    cwd: work,
    env: { ...base, PATH: `${path.join(work, 'bin')}:${process.env.PATH}`, STUB_LOG: log, ...env },
    encoding: 'utf8',
  });
  return { status: run.status, stderr: run.stderr, calls: fs.readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') };
}

const preflightCalls = (calls: string[]) => calls.filter((c) => c.includes('scripts/preflight.ts'));
const cdktfCalls = (calls: string[]) => calls.filter((c) => c.startsWith('npx cdktf'));

test('deploy runs the preflight first, then cdktf deploy with the user\'s flags', () => {
  const { status, calls } = cdktfSh(['deploy', '--auto-approve']);
  expect(status).toBe(0);
  expect(preflightCalls(calls)).toHaveLength(1);
  expect(calls.indexOf(preflightCalls(calls)[0])).toBeLessThan(calls.indexOf(cdktfCalls(calls)[0]));
  expect(cdktfCalls(calls)).toEqual([expect.stringMatching(/^npx cdktf deploy .*--auto-approve$/)]);
});

test('fails, and never starts cdktf, when the preflight finds an error', () => {
  const { status, calls } = cdktfSh(['deploy', '--auto-approve'], { PREFLIGHT_EXIT: '1' });
  expect(status).toBe(1);
  expect(preflightCalls(calls)).toHaveLength(1);
  expect(cdktfCalls(calls)).toEqual([]);
});

test.each<[string, string[], NodeJS.ProcessEnv]>([
  ['--skip-preflight', ['deploy', '--skip-preflight', '--auto-approve'], {}],
  ['K8S_LAB_SKIP_PREFLIGHT=1', ['deploy', '--auto-approve'], { K8S_LAB_SKIP_PREFLIGHT: '1' }],
])('%s skips the preflight, says so, and cdktf never sees the flag', (_name, args, env) => {
  const { status, stderr, calls } = cdktfSh(args, { ...env, PREFLIGHT_EXIT: '1' });
  expect(status).toBe(0);
  expect(stderr).toMatch(/preflight skipped \(--skip-preflight or K8S_LAB_SKIP_PREFLIGHT=1\)/);
  expect(preflightCalls(calls)).toEqual([]);
  expect(cdktfCalls(calls)).toEqual([expect.stringMatching(/^npx cdktf deploy .*--auto-approve$/)]);
  expect(cdktfCalls(calls)[0]).not.toMatch(/--skip-preflight/);
});

test('fails when K8S_LAB_SKIP_PREFLIGHT is neither 0 nor 1, naming it and the value, before anything runs', () => {
  const { status, stderr, calls } = cdktfSh(['deploy'], { K8S_LAB_SKIP_PREFLIGHT: 'yes' });
  expect(status).toBe(1);
  expect(stderr).toMatch(/K8S_LAB_SKIP_PREFLIGHT must be 1 \(skip the preflight\) or 0 \(run it\); got 'yes'/);
  expect(calls).toEqual([]);
});

test('diff and destroy ask the host nothing', () => {
  for (const command of ['diff', 'destroy']) {
    const { status, calls } = cdktfSh([command], { PREFLIGHT_EXIT: '1' });
    expect(status).toBe(0);
    expect(preflightCalls(calls)).toEqual([]);
    expect(cdktfCalls(calls)).toEqual([expect.stringMatching(new RegExp(`^npx cdktf ${command} `))]);
  }
});
