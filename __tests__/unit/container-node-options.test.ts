import * as YAML from 'yaml';
import { containerdConfig, kubeadmDocuments, renderKubeadmConfig, renderNodeFiles } from '../../bootstrap';
import { parseClusterSpec } from '../../spec';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { CONTAINER_NODE_OPTIONS, fileAt, nodeOf, planOf, userDataOf } from '../fixtures/bootstrap-helpers';

// Spec options the end-to-end tier's container nodes need (a VM does not): each off by default, and off renders
// exactly what the default spec renders (the golden snapshots of bootstrap-node-files and kubeadm-config hold that).

const defaults = planOf();
const withOptions = planOf(CONTAINER_NODE_OPTIONS);
const docsOf = (plan: typeof defaults, suffix: string) => kubeadmDocuments(plan, nodeOf(plan, suffix), FAKE_SECRETS) as unknown as Record<string, any>[];

describe('defaults: nothing rendered, as before the options existed', () => {
  test('spec defaults', () => {
    const spec = parseClusterSpec({}).spec;
    expect(spec.kubernetes.kubelet).toEqual({});
    expect(spec.kubernetes.kubeadm).toEqual({ ignorePreflightErrors: [] });
    expect(spec.kubernetes.kubeProxy).toEqual({});
    expect(spec.containerd).toEqual({ restrictOomScoreAdj: false });
  });
  test('no failCgroupV1, no ignorePreflightErrors, no KubeProxyConfiguration, no restrict_oom_score_adj', () => {
    expect(docsOf(defaults, 'cp-1').map((d) => d.kind)).toEqual(['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration']);
    expect(docsOf(defaults, 'cp-1')[2]).not.toHaveProperty('failCgroupV1');
    for (const suffix of ['cp-1', 'cp-2', 'worker-general-1']) expect(docsOf(defaults, suffix)[0].nodeRegistration).not.toHaveProperty('ignorePreflightErrors');
    expect(fileAt(userDataOf(defaults, defaults.workers[0]), '/etc/k8s-lab/containerd/config.toml').content).not.toContain('restrict_oom_score_adj');
  });
  test('the options set to their defaults explicitly render the same bytes as the empty spec', () => {
    const explicit = planOf({ kubernetes: { kubeadm: { ignorePreflightErrors: [] } }, containerd: { restrictOomScoreAdj: false } });
    for (const node of defaults.nodes) expect(renderNodeFiles(explicit, node, FAKE_SECRETS)).toEqual(renderNodeFiles(defaults, node, FAKE_SECRETS));
  });
});

describe('kubernetes.kubelet.failCgroupV1', () => {
  test('reaches the KubeletConfiguration kubeadm init uploads for every node', () => {
    expect(docsOf(withOptions, 'cp-1')[2]).toEqual({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      cgroupDriver: 'systemd',
      failCgroupV1: false,
      evictionHard: { 'imagefs.available': '0%', 'nodefs.available': '0%' },
    });
  });
  test('fails when it is not a boolean', () => {
    expect(() => parseClusterSpec({ kubernetes: { kubelet: { failCgroupV1: 'no' as unknown as boolean } } })).toThrow(/kubernetes\.kubelet\.failCgroupV1: must be true or false \(got "no"\)/);
  });
});

describe('kubernetes.kubelet.evictionHard', () => {
  const plan = planOf({ kubernetes: { kubelet: { evictionHard: { 'nodefs.available': '0%', 'imagefs.available': '0%', 'memory.available': '100Mi' } } } });
  test('reaches the KubeletConfiguration, its signals in sorted order whatever the spec\'s order', () => {
    expect(docsOf(plan, 'cp-1')[2].evictionHard).toEqual({ 'imagefs.available': '0%', 'memory.available': '100Mi', 'nodefs.available': '0%' });
    expect(Object.keys(docsOf(plan, 'cp-1')[2].evictionHard)).toEqual(['imagefs.available', 'memory.available', 'nodefs.available']);
  });
  test('is left out of the KubeletConfiguration when unset', () => {
    expect(docsOf(defaults, 'cp-1')[2]).not.toHaveProperty('evictionHard');
  });
  test('fails when a signal is not one the kubelet knows', () => {
    expect(() => parseClusterSpec({ kubernetes: { kubelet: { evictionHard: { 'disk.available': '0%' } } } })).toThrow(/kubernetes\.kubelet\.evictionHard\["disk\.available"\]: unknown key \(typo\?\); allowed at kubernetes\.kubelet\.evictionHard: memory\.available, nodefs\.available, .*pid\.available/);
  });
  test('fails when a threshold is neither a percentage nor a quantity', () => {
    expect(() => parseClusterSpec({ kubernetes: { kubelet: { evictionHard: { 'nodefs.available': '150%' } } } })).toThrow(/kubernetes\.kubelet\.evictionHard\["nodefs\.available"\]: must be a percentage from 0% to 100% or a quantity such as 100Mi \(got "150%"\)/);
    expect(() => parseClusterSpec({ kubernetes: { kubelet: { evictionHard: { 'memory.available': 'lots' } } } })).toThrow(/must be a percentage from 0% to 100% or a quantity/);
  });
});

describe('kubernetes.kubeadm.ignorePreflightErrors', () => {
  test('reaches nodeRegistration of init and of every join (control plane and worker)', () => {
    for (const suffix of ['cp-1', 'cp-2', 'worker-general-1']) expect(docsOf(withOptions, suffix)[0].nodeRegistration.ignorePreflightErrors).toEqual(['SystemVerification']);
  });
  test.each([
    ['fails when a name is empty', [''], /kubernetes\.kubeadm\.ignorePreflightErrors\[0\]: must be a kubeadm preflight check name such as SystemVerification/],
    ['fails when a name has a space', ['System Verification'], /ignorePreflightErrors\[0\]: must be a kubeadm preflight check name[^\n]*\(got "System Verification"\)/],
    ['fails when a name is given twice (kubeadm compares case-insensitively)', ['Swap', 'swap'], /ignorePreflightErrors\[1\]: must be unique[^\n]*\(got "swap"\)/],
    ['fails when all is combined with single checks', ['all', 'Swap'], /kubernetes\.kubeadm\.ignorePreflightErrors: must not name single checks together with all/],
    ['fails when it is not a list', 'SystemVerification', /kubernetes\.kubeadm\.ignorePreflightErrors: /],
  ])('%s', (_name, value, message) => {
    expect(() => parseClusterSpec({ kubernetes: { kubeadm: { ignorePreflightErrors: value as string[] } } })).toThrow(message);
  });
  test('accepts kubeadm check names with dots, dashes and digits', () => {
    const names = ['FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml', 'Port-6443', 'FileContent--proc-sys-net-ipv4-ip_forward'];
    expect(parseClusterSpec({ kubernetes: { kubeadm: { ignorePreflightErrors: names } } }).spec.kubernetes.kubeadm.ignorePreflightErrors).toEqual(names);
  });
});

describe('kubernetes.kubeProxy.conntrackMaxPerCore', () => {
  test('adds a KubeProxyConfiguration to the first control plane\'s file only', () => {
    expect(docsOf(withOptions, 'cp-1')[3]).toEqual({ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', conntrack: { maxPerCore: 0 } });
    expect(YAML.parseAllDocuments(renderKubeadmConfig(withOptions, nodeOf(withOptions, 'cp-1'), FAKE_SECRETS)).map((d) => d.get('kind'))).toEqual([
      'InitConfiguration',
      'ClusterConfiguration',
      'KubeletConfiguration',
      'KubeProxyConfiguration',
    ]);
    for (const suffix of ['cp-2', 'worker-general-1']) expect(docsOf(withOptions, suffix).map((d) => d.kind)).toEqual(['JoinConfiguration']);
  });
  test.each([
    ['fails when it is negative', -1, /kubernetes\.kubeProxy\.conntrackMaxPerCore: must be at least 0 \(0: leave nf_conntrack_max as it is\) \(got -1\)/],
    ['fails when it is not a whole number', 1.5, /kubernetes\.kubeProxy\.conntrackMaxPerCore: must be a whole number \(got 1\.5\)/],
  ])('%s', (_name, value, message) => {
    expect(() => parseClusterSpec({ kubernetes: { kubeProxy: { conntrackMaxPerCore: value } } })).toThrow(message);
  });
});

describe('containerd.restrictOomScoreAdj', () => {
  test('puts restrict_oom_score_adj = true in the CRI plugin table of every Kubernetes node\'s containerd config', () => {
    for (const node of [...withOptions.controlPlanes, ...withOptions.workers]) {
      const toml = fileAt(userDataOf(withOptions, node), '/etc/k8s-lab/containerd/config.toml').content;
      expect(toml).toMatch(/\[plugins\."io\.containerd\.grpc\.v1\.cri"\]\n\s+sandbox_image = "[^"]+"\n\s+restrict_oom_score_adj = true\n/);
    }
  });
  test('containerdConfig without options is the config it was', () => {
    expect(containerdConfig('1.36.3', { restrictOomScoreAdj: false })).toEqual(containerdConfig('1.36.3'));
  });
  test('fails when it is not a boolean', () => {
    expect(() => parseClusterSpec({ containerd: { restrictOomScoreAdj: 1 as unknown as boolean } })).toThrow(/containerd\.restrictOomScoreAdj: must be true or false \(got 1\)/);
  });
});

test('an unknown key under kubernetes.kubelet is a typo error listing the allowed keys', () => {
  expect(() => parseClusterSpec({ kubernetes: { kubelet: { failCgroupv1: false } as never } })).toThrow(/kubernetes\.kubelet\.failCgroupv1: unknown key \(typo\?\); allowed at kubernetes\.kubelet: failCgroupV1/);
});
