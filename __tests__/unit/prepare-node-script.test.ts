import * as fs from 'fs';
import * as path from 'path';
import { NODE_IMAGE_PATHS, NODE_KERNEL_MODULES, NODE_SYSCTLS } from '../../bootstrap';
import { Cni } from '../../spec';
import { planOf, userDataText } from '../fixtures/bootstrap-helpers';
import { FAKE_KERNEL_RELEASE, FakeNode, FakeNodeInput } from '../support/fake-node';

// The rendered prepare-node step, run for real by bash against a fake node (see __tests__/support/fake-node.ts:
// a private mount namespace with a fake /etc, /opt and /sys/module, stub commands on PATH). The script runs as
// rendered: its absolute paths are the node's.

const prebaked = planOf({ image: { prebaked: true }, kubernetes: { cni: Cni.FLANNEL } });
const worker = prebaked.workers[0];
const PREPARE_NODE = '/usr/local/sbin/k8s-lab-prepare-node.sh';
const VERSION = `v${prebaked.spec.kubernetes.version}`;
const ARCHIVES = ['coredns.tar', 'etcd.tar', 'kube-apiserver.tar', 'pause.tar'];

/** A node as the image leaves it: the right versions, its archives, overlay built in, sysctls settable. */
const healthyNode = (overrides: Partial<FakeNodeInput> = {}): FakeNodeInput => ({
  userData: userDataText(prebaked, worker),
  script: PREPARE_NODE,
  versions: { kubeadm: VERSION, kubelet: VERSION, kubectl: VERSION },
  archives: ARCHIVES,
  modules: ['overlay'],
  sysctls: { 'net.ipv4.ip_forward': '0', 'net.bridge.bridge-nf-call-iptables': '0', 'net.bridge.bridge-nf-call-ip6tables': '0' },
  ...overrides,
});

const nodes: FakeNode[] = [];
function fakeNode(input: FakeNodeInput): FakeNode {
  const node = new FakeNode(input);
  nodes.push(node);
  return node;
}
afterAll(() => nodes.forEach((n) => n.remove()));

const NETWORK_TOOLS = /^(apt-get|apt-mark|curl|gpg) /;

describe('prebaked prepare-node, run against a fake node', () => {
  test.each([
    ['kubeadm', { kubeadm: 'v1.36.2', kubelet: VERSION, kubectl: VERSION }, `kubeadm is v1.36.2, but kubernetes.version is ${VERSION}`],
    ['kubelet', { kubeadm: VERSION, kubelet: 'v1.37.2', kubectl: VERSION }, `kubelet is v1.37.2, but kubernetes.version is ${VERSION}`],
    ['kubectl', { kubeadm: VERSION, kubelet: VERSION, kubectl: 'v1.35.4' }, `kubectl is v1.35.4, but kubernetes.version is ${VERSION}`],
  ])('fails when the baked %s is another version, naming both versions, before changing anything', (_component, versions, message) => {
    // GIVEN a node image whose binary reports another release
    const node = fakeNode(healthyNode({ versions }));
    // WHEN
    const run = node.run();
    // THEN the step fails with both versions in its message
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain(`does not carry Kubernetes ${VERSION}`);
    // AND nothing was changed: no swapoff, no containerd, no import
    expect(run.calls.filter((c) => /^(swapoff|ctr|systemctl|modprobe) /.test(c) || c.startsWith('sysctl -q -w'))).toEqual([]);
    expect(fs.existsSync(path.join(run.etcDir, 'containerd', 'config.toml'))).toBe(false);
  });

  test('with matching versions: imports every archive of /opt/k8s-lab/images into k8s.io, enables kubelet, calls no apt, curl or gpg', () => {
    // GIVEN
    const node = fakeNode(healthyNode());
    // WHEN
    const run = node.run();
    // THEN
    expect(run.stderr).not.toMatch(/node image: .* but kubernetes\.version/);
    expect(run.status).toBe(0);
    expect(run.calls.filter((c) => c.startsWith('ctr '))).toEqual(ARCHIVES.map((a) => `ctr -n k8s.io images import ${NODE_IMAGE_PATHS.imageDir}/${a}`));
    expect(run.calls).toEqual(expect.arrayContaining(['systemctl enable kubelet', 'systemctl enable --now containerd', 'swapoff -a']));
    expect(run.calls.filter((c) => NETWORK_TOOLS.test(c))).toEqual([]);
    expect(run.stdout).toContain(`node image: kubeadm ${VERSION}`);
    // AND containerd got the staged config, and the swap line in fstab is commented out
    expect(fs.readFileSync(path.join(run.etcDir, 'containerd', 'config.toml'), 'utf8')).toBe(fs.readFileSync(path.join(run.etcDir, 'k8s-lab', 'containerd', 'config.toml'), 'utf8'));
    expect(fs.readFileSync(path.join(run.etcDir, 'fstab'), 'utf8')).toContain('# disabled by k8s-lab: /swap.img none swap sw 0 0');
  });

  test('is idempotent: a second run succeeds, leaves containerd running as it is and imports again without error', () => {
    // GIVEN a node prepared once
    const node = fakeNode(healthyNode());
    expect(node.run().status).toBe(0);
    // WHEN
    const again = node.run();
    // THEN
    expect(again.status).toBe(0);
    expect(again.calls).not.toContain('systemctl restart containerd');
    expect(again.calls.filter((c) => c.startsWith('ctr '))).toHaveLength(ARCHIVES.length);
  });

  test('fails when /opt/k8s-lab/images holds no archive, naming the directory', () => {
    const run = fakeNode(healthyNode({ archives: [] })).run();
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`no image archives in ${NODE_IMAGE_PATHS.imageDir}`);
  });
});

describe('kernel modules (both paths run the same lines)', () => {
  test('a module present under /sys/module (built in) is not modprobed; one missing with no /lib/modules/<release> is reported and the step goes on', () => {
    // GIVEN overlay built in, br_netfilter absent, a kernel with no /lib/modules directory (FAKE_KERNEL_RELEASE)
    const run = fakeNode(healthyNode({ modules: ['overlay'], modprobeFails: [...NODE_KERNEL_MODULES] })).run();
    // THEN
    expect(run.status).toBe(0);
    expect(run.calls.filter((c) => c.startsWith('modprobe'))).toEqual([]);
    expect(run.stdout).toContain('kernel module overlay: present (loaded, or built into the kernel)');
    expect(run.stdout).toContain(`kernel module br_netfilter: not loaded, and no /lib/modules/${FAKE_KERNEL_RELEASE} to load it from; going on`);
  });
});

describe('sysctls (both paths run the same lines)', () => {
  test('sets each key that differs; one already right is left alone', () => {
    const run = fakeNode(healthyNode({ sysctls: { 'net.ipv4.ip_forward': '1', 'net.bridge.bridge-nf-call-iptables': '0', 'net.bridge.bridge-nf-call-ip6tables': '0' } })).run();
    expect(run.status).toBe(0);
    expect(run.calls.filter((c) => c.startsWith('sysctl -q -w'))).toEqual(['sysctl -q -w net.bridge.bridge-nf-call-iptables=1', 'sysctl -q -w net.bridge.bridge-nf-call-ip6tables=1']);
    expect(run.sysctls).toEqual(Object.fromEntries(NODE_SYSCTLS.map((s) => [s.key, s.value])));
  });

  test('a bridge-nf-call key the node cannot set is reported on a WARNING line naming it, and the step goes on', () => {
    // GIVEN no br_netfilter: the bridge keys do not exist
    const run = fakeNode(healthyNode({ sysctls: { 'net.ipv4.ip_forward': '0' } })).run();
    // THEN
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('WARNING: sysctl net.bridge.bridge-nf-call-iptables: cannot set it to 1 (it is missing)');
    expect(run.stderr).toContain('WARNING: sysctl net.bridge.bridge-nf-call-ip6tables: cannot set it to 1 (it is missing)');
    expect(run.sysctls['net.ipv4.ip_forward']).toBe('1');
  });

  test('fails when net.ipv4.ip_forward cannot be set, naming the key and its value', () => {
    // GIVEN a read-only ip_forward that is 0
    const run = fakeNode(healthyNode({ readOnlySysctls: ['net.ipv4.ip_forward'] })).run();
    // THEN
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('sysctl net.ipv4.ip_forward: cannot set it to 1 (it is 0); required');
    expect(run.calls.filter((c) => c.startsWith('ctr '))).toEqual([]);
  });

  test('a read-only ip_forward that is already 1 (a container whose runtime set it) is fine', () => {
    const run = fakeNode(healthyNode({ sysctls: { 'net.ipv4.ip_forward': '1' }, readOnlySysctls: ['net.ipv4.ip_forward'] })).run();
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('sysctl net.ipv4.ip_forward = 1');
  });
});

const online = planOf({ kubernetes: { cni: Cni.FLANNEL } });

test('the online prepare-node, run on the same fake node, tolerates the built-in module and reports the unsettable sysctls too, and installs with apt', () => {
  // GIVEN overlay built in, no br_netfilter (so no bridge keys), a kernel without /lib/modules
  const run = fakeNode(healthyNode({ userData: userDataText(online, online.workers[0]), sysctls: { 'net.ipv4.ip_forward': '0' } })).run();
  // THEN
  expect(run.status).toBe(0);
  expect(run.calls.filter((c) => c.startsWith('modprobe'))).toEqual([]);
  expect(run.stdout).toContain('kernel module overlay: present (loaded, or built into the kernel)');
  expect(run.stderr).toContain('WARNING: sysctl net.bridge.bridge-nf-call-iptables: cannot set it to 1 (it is missing)');
  expect(run.sysctls['net.ipv4.ip_forward']).toBe('1');
  // AND the online path is still the online path, its two updates through the update script (which ran on the node)
  expect(run.calls.filter((c) => c.startsWith('apt-get update'))).toEqual(['apt-get update -q --error-on=any', 'apt-get update -q --error-on=any']);
  expect(run.calls).toContain(`apt-get install -y -q kubelet=${online.spec.kubernetes.version}-* kubeadm=${online.spec.kubernetes.version}-* kubectl=${online.spec.kubernetes.version}-*`);
  expect(run.calls.filter((c) => c.startsWith('ctr '))).toEqual([]);
});

test('the online and the prebaked prepare-node run the very same module and sysctl lines', () => {
  const block = (text: string) => {
    const script = JSON.stringify(text);
    const start = script.indexOf('echo \\"kernel modules:');
    const end = script.indexOf('set_sysctl net.bridge.bridge-nf-call-ip6tables');
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    return script.slice(start, end);
  };
  expect(block(userDataText(online, online.workers[0]))).toBe(block(userDataText(prebaked, worker)));
});

describe('Kubernetes 1.37 installed from the network needs containerd 2.0 or newer', () => {
  const v137 = planOf({ kubernetes: { version: '1.37.0', cni: Cni.FLANNEL } });
  const install137 = 'apt-get install -y -q kubelet=1.37.0-* kubeadm=1.37.0-* kubectl=1.37.0-*';

  test('a containerd older than 2.0 (a 1.7, as Ubuntu 24.04 ships) stops the step right after its install, naming both versions and the ways out', () => {
    // GIVEN the online 1.37 prepare-node on a node whose apt installed containerd 1.7.24
    const run = fakeNode(healthyNode({ userData: userDataText(v137, v137.workers[0]), containerdVersion: '1.7.24' })).run();
    // THEN it stops before containerd's config and the Kubernetes packages
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('containerd 1.7.24 is older than 2.0, which kubelet 1.37 needs (the CRI RuntimeConfig call): use a base image whose containerd package is 2.x, or kubernetes.version 1.36');
    expect(run.calls).not.toContain(install137);
    expect(run.calls.filter((c) => c.startsWith('systemctl'))).toEqual([]);
  });

  test.each(['2.0.0', 'v2.1.4'])('containerd %s is new enough: the step goes on and installs the 1.37 packages', (containerdVersion) => {
    const run = fakeNode(healthyNode({ userData: userDataText(v137, v137.workers[0]), containerdVersion })).run();
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`containerd ${containerdVersion}: new enough`);
    expect(run.calls).toContain(install137);
  });

  test('1.36 asks nothing of containerd\'s version (its kubelet still falls back)', () => {
    const run = fakeNode(healthyNode({ userData: userDataText(online, online.workers[0]), containerdVersion: '1.6.20~ds1' })).run();
    expect(run.status).toBe(0);
    expect(run.calls).not.toContain('containerd --version');
  });
});
