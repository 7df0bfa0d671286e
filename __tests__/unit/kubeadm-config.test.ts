import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import {
  BOOTSTRAP_TOKEN_TTL,
  CRI_SOCKET,
  ClusterSecrets,
  KUBEADM_CONFIG_PATH,
  isInitNode,
  kubeadmCommand,
  kubeadmInitDocuments,
  kubeadmJoinDocument,
  renderKubeadmConfig,
} from '../../bootstrap';
import { ClusterSpecInput, DEFAULT_KUBERNETES_VERSION, DomainType, NodePlan, NodeRole } from '../../spec';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { planOf } from '../fixtures/bootstrap-helpers';

/** The rendered file as parsed documents, in order. */
const documentsOf = (text: string): Record<string, any>[] => YAML.parseAllDocuments(text).map((d) => d.toJS());

/** A spec with every field kubeadm reads changed from its default, and a labelled + tainted pool. */
const CUSTOM_SPEC: ClusterSpecInput = {
  name: 'lab2',
  network: { cidr: '10.20.0.0/24', domain: 'cluster.example' },
  kubernetes: { version: '1.36.1', podCidr: '10.40.0.0/16', serviceCidr: '10.50.0.0/16' },
  workerPools: [
    { name: 'plain', count: 1 },
    {
      name: 'gpu',
      count: 2,
      labels: { 'example.com/zone': 'b', 'accelerator': 'fake-gpu' },
      taints: [
        { key: 'example.com/gpu', value: 'true', effect: 'NoSchedule' },
        { key: 'example.com/dedicated', effect: 'PreferNoSchedule' },
      ],
    },
  ],
};

const byKind = (docs: Record<string, any>[], kind: string): Record<string, any> => {
  const found = docs.filter((d) => d.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, got ${found.length}`);
  return found[0];
};

describe('kubeadm config of the first control plane (kubeadm init)', () => {
  const plan = planOf({});
  const cp1 = plan.controlPlanes[0];
  const docs = documentsOf(renderKubeadmConfig(plan, cp1, FAKE_SECRETS));

  test('is InitConfiguration, ClusterConfiguration and KubeletConfiguration, in that order', () => {
    // GIVEN the default cluster WHEN cp-1's file is rendered THEN it holds the three init documents
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual([
      'kubeadm.k8s.io/v1beta4 InitConfiguration',
      'kubeadm.k8s.io/v1beta4 ClusterConfiguration',
      'kubelet.config.k8s.io/v1beta1 KubeletConfiguration',
    ]);
  });

  test('the InitConfiguration creates the bootstrap token with a 24 h TTL and carries the certificate key', () => {
    const init = byKind(docs, 'InitConfiguration');
    expect(init.bootstrapTokens).toHaveLength(1);
    expect(init.bootstrapTokens[0]).toMatchObject({
      token: FAKE_SECRETS.bootstrapToken,
      ttl: '24h0m0s',
      usages: ['signing', 'authentication'],
      groups: ['system:bootstrappers:kubeadm:default-node-token'],
    });
    expect(BOOTSTRAP_TOKEN_TTL).toBe('24h0m0s');
    expect(init.certificateKey).toBe(FAKE_SECRETS.certificateKey);
  });

  test('the API server advertises the node address on 6443 and the node registers under its hostname', () => {
    const init = byKind(docs, 'InitConfiguration');
    expect(init.localAPIEndpoint).toEqual({ advertiseAddress: cp1.ip, bindPort: 6443 });
    expect(init.nodeRegistration).toEqual({
      name: 'k8s-lab-cp-1',
      criSocket: 'unix:///run/containerd/containerd.sock',
      kubeletExtraArgs: [{ name: 'node-ip', value: cp1.ip }],
    });
    expect(CRI_SOCKET).toBe('unix:///run/containerd/containerd.sock');
  });

  test('leaves the taints out, so kubeadm applies its control-plane NoSchedule taint', () => {
    expect('taints' in byKind(docs, 'InitConfiguration').nodeRegistration).toBe(false);
  });

  test('the ClusterConfiguration points at the load balancer by name and runs the pinned release', () => {
    const cluster = byKind(docs, 'ClusterConfiguration');
    expect(cluster.kubernetesVersion).toBe(`v${DEFAULT_KUBERNETES_VERSION}`);
    expect(cluster.clusterName).toBe('k8s-lab');
    expect(cluster.controlPlaneEndpoint).toBe('api.k8s.lab:6443');
    expect(cluster.apiServer.certSANs).toEqual(['api.k8s.lab', 'api', plan.apiEndpoint.ip]);
    expect(cluster.networking).toEqual({ podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local' });
  });

  test('the kubelet uses the systemd cgroup driver', () => {
    expect(byKind(docs, 'KubeletConfiguration').cgroupDriver).toBe('systemd');
  });

  test('kubeadmInitDocuments returns the same documents as typed objects', () => {
    const [init, cluster, kubelet] = kubeadmInitDocuments(plan, cp1, FAKE_SECRETS);
    expect([init.kind, cluster.kind, kubelet.kind]).toEqual(['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration']);
    expect(documentsOf(renderKubeadmConfig(plan, cp1, FAKE_SECRETS))).toEqual(JSON.parse(JSON.stringify([init, cluster, kubelet])));
  });
});

describe('kubeadm config follows the spec', () => {
  const plan = planOf(CUSTOM_SPEC);
  const cluster = byKind(documentsOf(renderKubeadmConfig(plan, plan.controlPlanes[0], FAKE_SECRETS)), 'ClusterConfiguration');

  test('version, name, endpoint, SANs and subnets come from the spec', () => {
    // GIVEN a spec with its own name, domain, version and subnets
    // THEN the ClusterConfiguration carries them
    expect(cluster.kubernetesVersion).toBe('v1.36.1');
    expect(cluster.clusterName).toBe('lab2');
    expect(cluster.controlPlaneEndpoint).toBe('api.cluster.example:6443');
    expect(cluster.apiServer.certSANs).toEqual(['api.cluster.example', 'api', '10.20.0.5']);
    expect(cluster.networking).toEqual({ podSubnet: '10.40.0.0/16', serviceSubnet: '10.50.0.0/16', dnsDomain: 'cluster.local' });
  });

  test('a labelled and tainted pool: its workers register the labels (sorted) and exactly its taints', () => {
    const gpu = plan.workers.filter((w) => w.pool === 'gpu');
    expect(gpu).toHaveLength(2);
    for (const worker of gpu) {
      const join = documentsOf(renderKubeadmConfig(plan, worker, FAKE_SECRETS))[0];
      expect(join.nodeRegistration.taints).toEqual([
        { key: 'example.com/gpu', value: 'true', effect: 'NoSchedule' },
        { key: 'example.com/dedicated', effect: 'PreferNoSchedule' },
      ]);
      expect(join.nodeRegistration.kubeletExtraArgs).toEqual([
        { name: 'node-ip', value: worker.ip },
        { name: 'node-labels', value: 'accelerator=fake-gpu,example.com/zone=b,k8s-lab.io/pool=gpu' },
      ]);
    }
  });

  test('a pool without taints registers none (an explicit empty list) and only the pool label', () => {
    const plain = plan.workers.find((w) => w.pool === 'plain') as NodePlan;
    const join = documentsOf(renderKubeadmConfig(plan, plain, FAKE_SECRETS))[0];
    expect(join.nodeRegistration.taints).toEqual([]);
    expect(join.nodeRegistration.kubeletExtraArgs).toContainEqual({ name: 'node-labels', value: 'k8s-lab.io/pool=plain' });
  });
});

describe('kubeadm config of the other control planes (kubeadm join --control-plane)', () => {
  const plan = planOf({});

  test.each([1, 2])('control plane index %i joins through the load balancer as a control plane on its own address', (i) => {
    const cp = plan.controlPlanes[i];
    const docs = documentsOf(renderKubeadmConfig(plan, cp, FAKE_SECRETS));
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual(['kubeadm.k8s.io/v1beta4 JoinConfiguration']);
    const join = docs[0];
    expect(join.discovery).toEqual({
      bootstrapToken: { apiServerEndpoint: 'api.k8s.lab:6443', token: FAKE_SECRETS.bootstrapToken, caCertHashes: [FAKE_SECRETS.caCertHash] },
    });
    expect(join.controlPlane).toEqual({ localAPIEndpoint: { advertiseAddress: cp.ip, bindPort: 6443 }, certificateKey: FAKE_SECRETS.certificateKey });
    expect(join.nodeRegistration).toEqual({ name: cp.hostname, criSocket: CRI_SOCKET, kubeletExtraArgs: [{ name: 'node-ip', value: cp.ip }] });
  });

  test('waits longer than kubeadm by default for discovery and for its control-plane pods', () => {
    expect(kubeadmJoinDocument(plan, plan.controlPlanes[1], FAKE_SECRETS).timeouts).toEqual({ controlPlaneComponentHealthCheck: '10m0s', discovery: '15m0s' });
  });
});

describe('kubeadm config of workers (kubeadm join)', () => {
  const plan = planOf({});
  const worker = plan.workers[0];
  const join = kubeadmJoinDocument(plan, worker, FAKE_SECRETS);

  test('joins through the load balancer, pinning the CA, with no controlPlane section', () => {
    expect(join.kind).toBe('JoinConfiguration');
    expect(join.discovery.bootstrapToken).toEqual({ apiServerEndpoint: 'api.k8s.lab:6443', token: FAKE_SECRETS.bootstrapToken, caCertHashes: [FAKE_SECRETS.caCertHash] });
    expect(join.controlPlane).toBeUndefined();
    expect(join.nodeRegistration.name).toBe(worker.hostname);
    expect(join.timeouts).toEqual({ discovery: '15m0s' });
  });
});

describe('kubeadm timeouts under emulation (libvirt.domainType qemu)', () => {
  const kvm = planOf({});
  const qemu = planOf({ libvirt: { domainType: DomainType.QEMU } });

  test('init waits 10 times longer than under KVM for its pods, its kubelet and every API and etcd call', () => {
    // GIVEN the KVM init sets only the control-plane health check (10m) and leaves kubeadm's defaults (kubelet 4m, API call 1m, etcd call 2m)
    expect(kubeadmInitDocuments(kvm, kvm.controlPlanes[0], FAKE_SECRETS)[0].timeouts).toEqual({ controlPlaneComponentHealthCheck: '10m0s' });
    // WHEN the same cluster is emulated THEN each is 10 times its KVM value
    expect(kubeadmInitDocuments(qemu, qemu.controlPlanes[0], FAKE_SECRETS)[0].timeouts).toEqual({
      controlPlaneComponentHealthCheck: '1h40m0s',
      kubeletHealthCheck: '40m0s',
      kubernetesAPICall: '10m0s',
      etcdAPICall: '20m0s',
    });
  });

  test('a joining control plane also waits 10 times longer for discovery and its TLS bootstrap', () => {
    expect(kubeadmJoinDocument(qemu, qemu.controlPlanes[1], FAKE_SECRETS).timeouts).toEqual({
      controlPlaneComponentHealthCheck: '1h40m0s',
      kubeletHealthCheck: '40m0s',
      kubernetesAPICall: '10m0s',
      etcdAPICall: '20m0s',
      tlsBootstrap: '50m0s',
      discovery: '2h30m0s',
    });
  });

  test('a worker gets only the timeouts a worker join uses, 10 times their KVM value', () => {
    expect(kubeadmJoinDocument(kvm, kvm.workers[0], FAKE_SECRETS).timeouts).toEqual({ discovery: '15m0s' });
    expect(kubeadmJoinDocument(qemu, qemu.workers[0], FAKE_SECRETS).timeouts).toEqual({
      kubeletHealthCheck: '40m0s',
      kubernetesAPICall: '10m0s',
      tlsBootstrap: '50m0s',
      discovery: '2h30m0s',
    });
  });
});

describe('kubeadm config for every node', () => {
  const plan = planOf(CUSTOM_SPEC);
  const kubeadmNodes = plan.nodes.filter((n) => n.role !== NodeRole.LOAD_BALANCER);

  test('exactly one node (the first control plane) runs kubeadm init', () => {
    expect(kubeadmNodes.filter(isInitNode).map((n) => n.hostname)).toEqual(['lab2-cp-1']);
  });

  test('no file skips CA verification; every join pins the CA hash', () => {
    for (const node of kubeadmNodes) {
      const text = renderKubeadmConfig(plan, node, FAKE_SECRETS);
      expect(text).not.toMatch(/unsafeSkipCAVerification/);
      if (!isInitNode(node)) expect(kubeadmJoinDocument(plan, node, FAKE_SECRETS).discovery.bootstrapToken.caCertHashes).toEqual([FAKE_SECRETS.caCertHash]);
    }
  });

  test('documents are separated by --- lines and rendering is deterministic', () => {
    const text = renderKubeadmConfig(plan, plan.controlPlanes[0], FAKE_SECRETS);
    expect(text.split('\n').filter((l) => l === '---')).toHaveLength(2);
    expect(renderKubeadmConfig(plan, plan.controlPlanes[0], FAKE_SECRETS)).toBe(text);
  });

  test('kubeadmCommand: init uploads the certificates and prints neither the token nor the certificate key, joins read the same file', () => {
    expect(kubeadmCommand(plan.controlPlanes[0])).toEqual(['kubeadm', 'init', '--config', KUBEADM_CONFIG_PATH, '--upload-certs', '--skip-token-print', '--skip-certificate-key-print']);
    expect(kubeadmCommand(plan.controlPlanes[1])).toEqual(['kubeadm', 'join', '--config', KUBEADM_CONFIG_PATH]);
    expect(kubeadmCommand(plan.workers[0])).toEqual(['kubeadm', 'join', '--config', KUBEADM_CONFIG_PATH]);
  });
});

describe('kubeadm config input checks', () => {
  const plan = planOf({});

  test('fails when the node is a load balancer', () => {
    // GIVEN the load-balancer node WHEN its kubeadm config is asked for THEN it throws naming the role
    expect(() => renderKubeadmConfig(plan, plan.loadBalancers[0], FAKE_SECRETS)).toThrow(
      /node\.role must be control-plane or worker to render a kubeadm config, got "load-balancer" \(node k8s-lab-lb-1/,
    );
    expect(() => kubeadmCommand(plan.loadBalancers[0])).toThrow(/node\.role must be control-plane or worker/);
  });

  test('fails when the node is not in the plan', () => {
    const stranger: NodePlan = { ...plan.workers[0], hostname: 'elsewhere-1' };
    expect(() => renderKubeadmConfig(plan, stranger, FAKE_SECRETS)).toThrow(/node must be one of plan\.nodes, got elsewhere-1/);
  });

  test('fails when init documents are asked for a joining node, or a join document for the first control plane', () => {
    expect(() => kubeadmInitDocuments(plan, plan.controlPlanes[1], FAKE_SECRETS)).toThrow(/only the first control plane \(index 0\) runs kubeadm init/);
    expect(() => kubeadmJoinDocument(plan, plan.controlPlanes[0], FAKE_SECRETS)).toThrow(/is the first control plane \(index 0\), which runs kubeadm init/);
  });

  test.each<[keyof ClusterSecrets, string, RegExp]>([
    ['bootstrapToken', 'NOTATOKEN.secretsecretsecret', /secrets\.bootstrapToken must be \[a-z0-9\]\{6\}\.\[a-z0-9\]\{16\}, got a string of 28 characters \(not shown\)/],
    ['certificateKey', 'abc', /secrets\.certificateKey must be 64 hex digits/],
    ['caCertHash', 'md5:abc', /secrets\.caCertHash must be sha256:<64 hex digits>/],
  ])('fails when secrets.%s is malformed, without echoing it', (field, value, message) => {
    const secrets = { ...FAKE_SECRETS, [field]: value };
    expect(() => renderKubeadmConfig(plan, plan.workers[0], secrets)).toThrow(message);
    expect(() => renderKubeadmConfig(plan, plan.workers[0], secrets)).not.toThrow(value);
  });
});

describe('kubeadm build pin (tools/kubeadm/go.mod)', () => {
  const goMod = fs.readFileSync(path.join(__dirname, '..', '..', 'tools', 'kubeadm', 'go.mod'), 'utf8');

  test('requires k8s.io/kubernetes at DEFAULT_KUBERNETES_VERSION: the kubeadm we validate with is the release we deploy', () => {
    const required = /^require k8s\.io\/kubernetes (v\S+)$/m.exec(goMod)?.[1];
    expect(required).toBe(`v${DEFAULT_KUBERNETES_VERSION}`);
  });

  test('replaces every staging module with its v0.MINOR.PATCH of the same release', () => {
    const [, minor, patch] = /^1\.(\d+)\.(\d+)$/.exec(DEFAULT_KUBERNETES_VERSION) as RegExpExecArray;
    const replaces = [...goMod.matchAll(/^\s*(k8s\.io\/[a-z-]+) => (k8s\.io\/[a-z-]+) (v\S+)$/gm)];
    expect(replaces.length).toBeGreaterThanOrEqual(30);
    for (const [, from, to, version] of replaces) {
      expect(`${from} => ${to} ${version}`).toBe(`${from} => ${from} v0.${minor}.${patch}`);
    }
  });
});

describe('kubeadm config golden files', () => {
  const plan = planOf(CUSTOM_SPEC);
  test.each([
    ['first control plane', plan.controlPlanes[0]],
    ['second control plane', plan.controlPlanes[1]],
    ['worker of a labelled, tainted pool', plan.workers.find((w) => w.pool === 'gpu') as NodePlan],
  ])('%s', (_role, node) => {
    expect(renderKubeadmConfig(plan, node, FAKE_SECRETS)).toMatchSnapshot();
  });
});
