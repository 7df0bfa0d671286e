import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_KUBERNETES_VERSION } from '../../spec';
import { useDemoHarness } from '../support/demo-harness';
import { ROOT, runWithTools } from '../support/tools';

// The demos of README "Learn" run against a live cluster in the end-to-end tier
// (__tests__/e2e/support/demo-checks.ts). Here: the real shellcheck on the bash demos, and every demo's
// refusal of bad input — no KUBECONFIG, a missing file, no kubectl, a cluster that does not answer —
// with a clear message and a non-zero exit, before it could change anything.

const BASH_DEMOS = ['demo-self-healing.sh', 'demo-controllers.sh', 'demo-labels.sh', 'demo-api-only.sh'];
const LOSE_A_MASTER = path.join(ROOT, 'scripts', 'demo-lose-a-master.ts');

const h = useDemoHarness('demos-');
const { demo, pinnedKubectl } = h; // plain functions; tmp and unreachable are read from h once beforeAll ran

// demo-controllers.sh once waited with `wait_until WHAT test "$(count all)" -ge 2`: the count was taken once,
// when the wait began, so a pod that came later never satisfied it and the demo waited out its timeout (found
// by the end-to-end tier). This checks the text of the scripts; the e2e tier runs them.
test('no demo passes wait_until a condition computed once: no "$(...)" or backquote among its arguments', () => {
  // GIVEN every demo script that waits
  const demos = fs.readdirSync(path.join(ROOT, 'scripts')).filter((f) => /^demo-.*\.sh$/.test(f));
  const calls = demos.flatMap((f) =>
    fs
      .readFileSync(path.join(ROOT, 'scripts', f), 'utf8')
      .split('\n')
      .map((line, i) => ({ where: `${f}:${i + 1}`, line: line.trim() }))
      .filter(({ line }) => line.startsWith('wait_until ')),
  );
  expect(calls.length).toBeGreaterThan(0);
  // WHEN each call's condition (what follows the quoted WHAT) is read
  const computedOnce = calls.filter(({ line }) => /^wait_until\s+"(?:[^"\\]|\\.)*"\s+.*(?:\$\(|`)/.test(line));
  // THEN none is a command substitution, which the shell would expand once, before the first round
  expect(computedOnce).toEqual([]);
});

describe.each(BASH_DEMOS)('scripts/%s', (script) => {
  const file = path.join(ROOT, 'scripts', script);

  test('is shellcheck-clean (with demo-lib.sh and lib.sh it sources)', () => {
    const run = runWithTools('shellcheck', ['-x', '-P', path.join(ROOT, 'scripts'), file]);
    expect({ status: run.status, output: `${run.stdout}${run.stderr}` }).toEqual({ status: 0, output: '' });
  });

  test('fails with exit 2 when KUBECONFIG is not set, saying what to set', () => {
    const run = demo(script, {});
    expect(run.status).toBe(2);
    expect(run.output).toMatch(/KUBECONFIG is not set; point it at the cluster's admin kubeconfig/);
  });

  test('fails with exit 2 when KUBECONFIG names a missing file', () => {
    const run = demo(script, { KUBECONFIG: path.join(h.tmp, 'missing.kubeconfig') });
    expect(run.status).toBe(2);
    expect(run.output).toMatch(/KUBECONFIG names '.*missing\.kubeconfig', which is not a file/);
  });

  test('fails with exit 2 on a bad timeout or an argument', () => {
    expect(demo(script, { KUBECONFIG: h.unreachable, TIMEOUT_SECONDS: 'soon' })).toEqual({ status: 2, output: expect.stringMatching(/TIMEOUT_SECONDS must be a positive whole number of seconds, got 'soon'/) });
    expect(demo(script, { KUBECONFIG: h.unreachable }, ['--force'])).toEqual({ status: 2, output: expect.stringMatching(/unexpected argument '--force'/) });
  });

  test('fails with exit 3 when kubectl is missing, naming it', () => {
    const run = demo(script, { KUBECONFIG: h.unreachable, KUBECTL: path.join(h.tmp, 'no-such-kubectl') });
    expect(run.status).toBe(3);
    expect(run.output).toMatch(/no-such-kubectl' is not installed/);
  });

  test('fails with exit 1, bounded, when the cluster of KUBECONFIG does not answer (the pinned kubectl tried)', () => {
    const run = demo(script, { KUBECONFIG: h.unreachable, KUBECTL: pinnedKubectl() });
    expect(run.output).toContain(`Client Version: v${DEFAULT_KUBERNETES_VERSION}`);
    expect(run.output).toMatch(/127\.0\.0\.1:1 was refused/);
    expect(run.output).toMatch(/error: kubectl cannot reach the cluster of KUBECONFIG=.*unreachable\.kubeconfig/);
    // It stopped before its first change: no cleanup of anything it made.
    expect(run.output).not.toMatch(/Cleanup/);
    expect(run.status).toBe(1);
  });

  test('--help prints the usage and succeeds', () => {
    const run = demo(script, {}, ['--help']);
    expect(run.status).toBe(0);
    expect(run.output).toContain(`Usage: KUBECONFIG=PATH scripts/${script}`);
    expect(run.output).toMatch(/Exit codes: 0 shown; 1 what it shows did not/);
  });
});

describe('scripts/demo-self-healing.sh', () => {
  test('fails with exit 2 when dist/ is missing or has no manifests, saying to run npm run synth', () => {
    const missing = demo('demo-self-healing.sh', { KUBECONFIG: h.unreachable, DIST_DIR: path.join(h.tmp, 'nope') });
    expect(missing.status).toBe(2);
    expect(missing.output).toMatch(/DIST_DIR '.*nope' is not a directory; run 'npm run synth' first/);
    const empty = path.join(h.tmp, 'empty');
    fs.mkdirSync(empty, { recursive: true });
    const none = demo('demo-self-healing.sh', { KUBECONFIG: h.unreachable, DIST_DIR: empty });
    expect(none.status).toBe(2);
    expect(none.output).toMatch(/has no \*\.k8s\.yaml files; run 'npm run synth' first/);
  });

  test('fails with exit 2 on a DEPLOYMENT that is no object name', () => {
    expect(demo('demo-self-healing.sh', { KUBECONFIG: h.unreachable, DEPLOYMENT: 'Web_1' })).toEqual({ status: 2, output: expect.stringMatching(/DEPLOYMENT must be a Kubernetes object name.*got 'Web_1'/) });
  });
});

describe('scripts/demo-labels.sh', () => {
  test('fails with exit 2 when dist/ has no web-backend.k8s.yaml, saying to run npm run synth', () => {
    const run = demo('demo-labels.sh', { KUBECONFIG: h.unreachable, DIST_DIR: path.join(h.tmp, 'nope') });
    expect(run.status).toBe(2);
    expect(run.output).toMatch(/DIST_DIR '.*nope' has no web-backend\.k8s\.yaml; run 'npm run synth' first/);
  });
});

describe('scripts/demo-controllers.sh and demo-api-only.sh', () => {
  test.each(['demo-controllers.sh', 'demo-api-only.sh'])('%s fails with exit 2 on a NAMESPACE that is no namespace name', (script) => {
    const run = demo(script, { KUBECONFIG: h.unreachable, NAMESPACE: 'Demo_1' });
    expect(run.status).toBe(2);
    expect(run.output).toMatch(/NAMESPACE must be a Kubernetes namespace name.*got 'Demo_1'/);
  });
});

describe('scripts/demo-lose-a-master.ts (npm run demo:lose-a-master)', () => {
  test('fails with exit 2 when KUBECONFIG is not set, saying what to set', () => {
    const run = demo(LOSE_A_MASTER, {});
    expect(run.status).toBe(2);
    expect(run.output).toMatch(/KUBECONFIG is not set; point it at the cluster's admin kubeconfig/);
  });

  test('fails with exit 2 when KUBECONFIG names a missing file, or NODES is neither virsh nor docker', () => {
    expect(demo(LOSE_A_MASTER, { KUBECONFIG: path.join(h.tmp, 'missing.kubeconfig') })).toEqual({ status: 2, output: expect.stringMatching(/KUBECONFIG names '.*missing\.kubeconfig', which is not a file/) });
    expect(demo(LOSE_A_MASTER, { KUBECONFIG: h.unreachable, NODES: 'ssh' })).toEqual({ status: 2, output: expect.stringMatching(/NODES must be virsh or docker, got 'ssh'/) });
  });

  test('fails with exit 2 when CLUSTER_CONFIG names a missing spec, naming it', () => {
    const run = demo(LOSE_A_MASTER, { KUBECONFIG: h.unreachable, CLUSTER_CONFIG: path.join(h.tmp, 'nope.yaml') });
    expect(run.status).toBe(2);
    expect(run.output).toMatch(/CLUSTER_CONFIG: the file does not exist/);
  });

  test('fails with exit 3 when kubectl is missing, naming it', () => {
    const run = demo(LOSE_A_MASTER, { KUBECONFIG: h.unreachable, NODES: 'docker', KUBECTL: path.join(h.tmp, 'no-such-kubectl') });
    expect(run.status).toBe(3);
    expect(run.output).toMatch(/no-such-kubectl' is not installed/);
  });

  test('fails with exit 1, before stopping anything, when the cluster of KUBECONFIG does not answer', () => {
    const run = demo(LOSE_A_MASTER, { KUBECONFIG: h.unreachable, NODES: 'docker', KUBECTL: pinnedKubectl() });
    expect(run.output).toMatch(/kubectl cannot reach the cluster of KUBECONFIG=.*unreachable\.kubeconfig/);
    expect(run.output).not.toMatch(/Lose a master/);
    expect(run.status).toBe(1);
  });

  test('--help prints the usage and succeeds', () => {
    const run = demo(LOSE_A_MASTER, {}, ['--help']);
    expect(run.status).toBe(0);
    expect(run.output).toMatch(/Usage: KUBECONFIG=PATH npm run demo:lose-a-master/);
  });
});
