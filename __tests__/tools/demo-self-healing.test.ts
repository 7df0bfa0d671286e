import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_KUBERNETES_VERSION } from '../../spec';
import { useDemoHarness } from '../support/demo-harness';
import { ROOT, runWithTools } from '../support/tools';

// scripts/demo-self-healing.sh runs against a deployed cluster (the deploy tier); here: the real
// shellcheck on it, and its refusal of bad input before it touches any cluster.

const script = path.join(ROOT, 'scripts', 'demo-self-healing.sh');

const h = useDemoHarness('demo-self-healing-');
/** Runs the script with `env` over the harness's clean environment (no KUBECONFIG unless given), bounded at 30 s. */
const demo = (env: Record<string, string>, args: string[] = []) => h.demo(script, env, args, { timeoutMs: 30_000 });

describe('scripts/demo-self-healing.sh', () => {
  test('is shellcheck-clean', () => {
    const run = runWithTools('shellcheck', ['-x', '-P', path.join(ROOT, 'scripts'), script]);
    expect({ status: run.status, output: `${run.stdout}${run.stderr}` }).toEqual({ status: 0, output: '' });
  });

  test('shellcheck can fail: it flags an unquoted variable in a copy of the script', () => {
    const broken = path.join(h.tmp, 'demo-broken.sh');
    fs.writeFileSync(broken, fs.readFileSync(script, 'utf8').replace('k apply -f "${dist}"', 'k apply -f ${dist}'));
    const run = runWithTools('shellcheck', ['-x', '-P', path.join(ROOT, 'scripts'), broken]);
    expect(run.status).not.toBe(0);
    expect(run.stdout).toMatch(/SC2086/);
  });

  test('fails with exit 2 when KUBECONFIG is not set', () => {
    const run = demo({});
    expect(run.status).toBe(2);
    expect(run.output).toMatch(/KUBECONFIG is not set; point it at the cluster's admin kubeconfig/);
  });

  test('fails with exit 2 when KUBECONFIG names a missing file', () => {
    const run = demo({ KUBECONFIG: path.join(h.tmp, 'missing.kubeconfig') });
    expect(run.status).toBe(2);
    expect(run.output).toMatch(/KUBECONFIG names '.*missing\.kubeconfig', which is not a file/);
  });

  test('fails with exit 2 when dist/ is missing or has no manifests, saying to run npm run synth', () => {
    const missing = demo({ KUBECONFIG: h.unreachable, DIST_DIR: path.join(h.tmp, 'nope') });
    expect(missing.status).toBe(2);
    expect(missing.output).toMatch(/DIST_DIR '.*nope' is not a directory; run 'npm run synth' first/);
    const empty = path.join(h.tmp, 'empty');
    fs.mkdirSync(empty, { recursive: true });
    const none = demo({ KUBECONFIG: h.unreachable, DIST_DIR: empty });
    expect(none.status).toBe(2);
    expect(none.output).toMatch(/has no \*\.k8s\.yaml files; run 'npm run synth' first/);
  });

  test('fails with exit 2 on a bad timeout, deployment name or argument', () => {
    expect(demo({ KUBECONFIG: h.unreachable, DIST_DIR: h.dist, TIMEOUT_SECONDS: '0' })).toEqual({ status: 2, output: expect.stringMatching(/TIMEOUT_SECONDS must be a positive whole number of seconds, got '0'/) });
    expect(demo({ KUBECONFIG: h.unreachable, DIST_DIR: h.dist, DEPLOYMENT: 'Web_1' })).toEqual({ status: 2, output: expect.stringMatching(/DEPLOYMENT must be a Kubernetes object name.*got 'Web_1'/) });
    expect(demo({ KUBECONFIG: h.unreachable, DIST_DIR: h.dist }, ['--force'])).toEqual({ status: 2, output: expect.stringMatching(/unexpected argument '--force'/) });
  });

  test('fails with exit 3 when kubectl is missing, naming it', () => {
    const run = demo({ KUBECONFIG: h.unreachable, DIST_DIR: h.dist, KUBECTL: path.join(h.tmp, 'no-such-kubectl') });
    expect(run.status).toBe(3);
    expect(run.output).toMatch(/no-such-kubectl' is not installed/);
  });

  test('fails with exit 1, bounded, when the API server of KUBECONFIG does not answer (the pinned kubectl of npm run tools)', () => {
    // GIVEN .tools/bin/kubectl (the script puts .tools/bin first) and a kubeconfig whose server is https://127.0.0.1:1
    h.pinnedKubectl();
    // WHEN the demo runs (demo() bounds it at 30 s) THEN the pinned kubectl tried, and the script stops with exit 1 naming the kubeconfig
    const run = demo({ KUBECONFIG: h.unreachable });
    expect(run.output).toContain(`Client Version: v${DEFAULT_KUBERNETES_VERSION}`);
    expect(run.output).toMatch(/127\.0\.0\.1:1 was refused/);
    expect(run.output).toMatch(/error: kubectl cannot reach the cluster of KUBECONFIG=.*unreachable\.kubeconfig/);
    expect(run.status).toBe(1);
  });

  test('--help prints the usage and succeeds', () => {
    const run = demo({}, ['--help']);
    expect(run.status).toBe(0);
    expect(run.output).toMatch(/Usage: KUBECONFIG=PATH scripts\/demo-self-healing\.sh/);
  });
});
