/**
 * `npm run status` for real, as a subprocess with the real virsh and the pinned kubectl, where
 * nothing is deployed: a libvirt URI that no daemon answers, no kubeconfig, an API that refuses on
 * loopback. It must say what is missing and what to do, and exit non-zero (also at a --wait
 * deadline); bad arguments exit 2. (No traffic leaves loopback.)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { ROOT, TOOL_PATH, requireTool } from '../support/tools';

let tmp: string;
const UNREACHABLE = 'qemu+unix:///system?socket=/nonexistent';

beforeAll(() => {
  requireTool('virsh');
  requireTool('kubectl');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-status-'));
  fs.writeFileSync(path.join(tmp, 'spec.yaml'), YAML.stringify({ name: 'k8s-lab-status', libvirt: { uri: UNREACHABLE } }));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function status(args: string[]): { status: number | null; output: string } {
  const run = spawnSync('npm', ['run', '--silent', 'status', '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, PATH: TOOL_PATH, CLUSTER_CONFIG: path.join(tmp, 'spec.yaml'), K8S_LAB_SECRETS_DIR: path.join(tmp, '.secrets') },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('nothing reachable: names the libvirt URI with virsh\'s reason and the missing kubeconfig, says what to do, exits 1', () => {
  const run = status([]);
  expect(run.status).toBe(1);
  expect(run.output).toContain(`libvirt at ${UNREACHABLE} does not answer (Failed to connect socket to '/nonexistent': No such file or directory): start libvirtd`);
  expect(run.output).toContain(`no kubeconfig at ${path.join(tmp, 'k8s-lab-status.kubeconfig')}: run npm run synth`);
  expect(run.output).toMatch(/^k8s-lab-status-cp-1\s+control-plane\s+192\.168\.150\.10\s+\?\s+\?\s+\?$/m);
  expect(run.output).toMatch(/NOT READY \(2\):/);
});

test('--no-libvirt with a kubeconfig whose API refuses (a closed loopback port): kubectl\'s reason, exits 1', () => {
  // GIVEN a kubeconfig pointing at a port nothing listens on
  const kubeconfig = path.join(tmp, 'refused.kubeconfig');
  fs.writeFileSync(kubeconfig, YAML.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }], users: [{ name: 'u', user: { token: 'not-a-token' } }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' }), { mode: 0o600 });
  // WHEN
  const run = status(['--no-libvirt', '--kubeconfig', kubeconfig]);
  // THEN
  expect(run.status).toBe(1);
  expect(run.output).toContain('API   https://127.0.0.1:1/readyz: no answer (The connection to the server 127.0.0.1:1 was refused');
  expect(run.output).toContain('the API at https://127.0.0.1:1 does not answer through the load balancer');
  expect(run.output).toMatch(/^k8s-lab-status-cp-1\s+control-plane\s+192\.168\.150\.10\s+\(skipped\)\s+\(skipped\)\s+\?$/m);
  expect(run.output).not.toContain('libvirt at');
});

test('--wait: asks again each --interval until its deadline, then reports and exits 1', () => {
  const run = status(['--wait', '3', '--interval', '1']);
  expect(run.status).toBe(1);
  expect(run.output).toMatch(/\[status\] round 1: not ready \(2 problem\(s\); first: libvirt at /);
  expect(run.output).toMatch(/not ready after --wait 3 s \(\d+ rounds\)/);
  expect(Number(/\((\d+) rounds\)/.exec(run.output)![1])).toBeGreaterThanOrEqual(2);
});

test('--wait shorter than --interval: waits until its deadline and asks again then, not at once', () => {
  const start = Date.now();
  const run = status(['--wait', '2', '--interval', '10']);
  expect(run.status).toBe(1);
  expect(run.output).toContain('asking again in 2 s');
  expect(run.output).toMatch(/not ready after --wait 2 s \(2 rounds\)/);
  expect(Date.now() - start).toBeGreaterThanOrEqual(2_000);
});

test('fails when an argument is bad: exit 2, naming it and what is allowed', () => {
  const run = status(['--wait', 'soon']);
  expect(run.status).toBe(2);
  expect(run.output).toContain('status: --wait must be followed by a whole number of seconds, at least 1; got "soon"');
  expect(run.output).toContain('Usage: npm run status');
});

test('fails when --kubeconfig names a folder or nothing: exit 2 (bad input), not 1 (not ready)', () => {
  for (const [given, problem] of [[tmp, 'which is a folder'], [path.join(tmp, 'missing.kubeconfig'), 'which does not exist']]) {
    const run = status(['--no-libvirt', '--kubeconfig', given]);
    expect({ status: run.status, said: run.output.includes(`status: --kubeconfig must name a kubeconfig file, got ${JSON.stringify(given)}, ${problem}`) }).toEqual({ status: 2, said: true });
  }
});
