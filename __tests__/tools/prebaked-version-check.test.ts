import * as fs from 'fs';
import * as path from 'path';
import { Cni, DEFAULT_KUBERNETES_VERSION } from '../../spec';
import { planOf, userDataText } from '../fixtures/bootstrap-helpers';
import { FakeNode } from '../support/fake-node';
import { ROOT } from '../support/tools';

// The prebaked prepare-node's version check (bootstrap/prepare-node-step.ts) parses what the baked binaries print.
// Here the real kubeadm and kubectl built by `npm run tools` at DEFAULT_KUBERNETES_VERSION answer it (kubelet is
// not built for the tools tier, so its answer stays a stub of the format `kubelet --version` prints:
// "Kubernetes v1.36.3"). The script runs unchanged in the unit tier's fake node (__tests__/support/fake-node.ts).

const BIN = path.join(ROOT, '.tools', 'bin');
const REAL = { kubeadm: path.join(BIN, 'kubeadm'), kubectl: path.join(BIN, 'kubectl') };
const ARCHIVES = ['etcd.tar', 'pause.tar'];

const nodes: FakeNode[] = [];
beforeAll(() => {
  for (const binary of Object.values(REAL)) if (!fs.existsSync(binary)) throw new Error(`${binary} is missing; run 'npm run tools'`);
});
afterAll(() => nodes.forEach((n) => n.remove()));

function runPrepareNode(kubernetesVersion: string) {
  const plan = planOf({ image: { prebaked: true }, kubernetes: { cni: Cni.FLANNEL, version: kubernetesVersion } });
  const node = new FakeNode({
    userData: userDataText(plan, plan.workers[0]),
    script: '/usr/local/sbin/k8s-lab-prepare-node.sh',
    versions: { kubeadm: 'unused', kubelet: `v${DEFAULT_KUBERNETES_VERSION}`, kubectl: 'unused' },
    realBinaries: REAL,
    archives: ARCHIVES,
    modules: ['overlay', 'br_netfilter'],
    sysctls: { 'net.ipv4.ip_forward': '1', 'net.bridge.bridge-nf-call-iptables': '1', 'net.bridge.bridge-nf-call-ip6tables': '1' },
  });
  nodes.push(node);
  return node.run();
}

test(`the real kubeadm and kubectl (v${DEFAULT_KUBERNETES_VERSION}) pass the check of a spec at ${DEFAULT_KUBERNETES_VERSION}`, () => {
  const run = runPrepareNode(DEFAULT_KUBERNETES_VERSION);
  expect(run.stderr).not.toMatch(/but kubernetes\.version is/);
  expect(run.stdout).toContain(`node image: kubeadm v${DEFAULT_KUBERNETES_VERSION}`);
  expect(run.stdout).toContain(`node image: kubectl v${DEFAULT_KUBERNETES_VERSION}`);
  expect(run.status).toBe(0);
  expect(run.calls).toEqual(expect.arrayContaining(ARCHIVES.map((a) => `ctr -n k8s.io images import /opt/k8s-lab/images/${a}`)));
});

test('fails when the spec asks for another release than the real binaries are, naming both versions', () => {
  // GIVEN a spec at 1.37.2, binaries at DEFAULT_KUBERNETES_VERSION
  const run = runPrepareNode('1.37.2');
  // THEN
  expect(run.status).not.toBe(0);
  expect(run.stderr).toContain(`node image: kubeadm is v${DEFAULT_KUBERNETES_VERSION}, but kubernetes.version is v1.37.2`);
  expect(run.stderr).toContain(`node image: kubectl is v${DEFAULT_KUBERNETES_VERSION}, but kubernetes.version is v1.37.2`);
  expect(run.calls.filter((c) => c.startsWith('ctr '))).toEqual([]);
});
