import * as YAML from 'yaml';
import {
  API_WAIT_TIMEOUT_SECONDS,
  ETCD_HEALTH_TIMEOUT_SECONDS,
  ETCD_WAIT_TIMEOUT_SECONDS,
  CALICO_VERSION,
  FLANNEL_VERSION,
  JOIN_ATTEMPTS,
  INIT_ATTEMPTS,
  bootstrapStepsOf,
  renderNodeFiles,
} from '../../bootstrap';
import { EMULATION_WAIT_FACTOR } from '../../bootstrap/private/wait-scale';
import { Cni, DomainType, EtcdTopology, NodeRole } from '../../spec';
import { FAKE_SECRETS, FAKE_SECRETS_WITH_ETCD } from '../fixtures/fake-secrets';
import { LABELLED_SPEC, TEST_SSH_KEY, fileAt, nodeOf, planOf, userDataOf, userDataText } from '../fixtures/bootstrap-helpers';

const plan = planOf();
const cp1 = nodeOf(plan, 'cp-1');
const cp2 = nodeOf(plan, 'cp-2');
const worker = nodeOf(plan, 'worker-general-1');
const lb = nodeOf(plan, 'lb-1');
// External etcd: its members exist only in a plan with etcd.topology external.
const externalEtcdPlan = planOf({ etcd: { topology: EtcdTopology.EXTERNAL } });
const etcd1 = nodeOf(externalEtcdPlan, 'etcd-1');

const RUNNER = '/usr/local/sbin/k8s-lab-bootstrap';
const script = (step: string) => `/usr/local/sbin/k8s-lab-${step}.sh`;

describe('renderNodeFiles: every node', () => {
  test.each(plan.nodes.map((n) => [n.hostname, n] as const))('%s: #cloud-config header, identity, hardened SSH, package update', (_name, node) => {
    // WHEN
    const text = userDataText(plan, node);
    const config = userDataOf(plan, node);
    // THEN
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    expect(config.hostname).toBe(node.hostname);
    expect(config.fqdn).toBe(node.fqdn);
    expect(config.ssh_pwauth).toBe(false);
    expect(config.disable_root).toBe(true);
    expect(config.package_update).toBe(true);
    expect(config.users.map((u) => u.name)).toEqual(['ubuntu']);
    expect(config.runcmd).toEqual([[RUNNER]]);
  });

  test('every file mode is a quoted octal string', () => {
    for (const node of plan.nodes) {
      const text = userDataText(plan, node);
      expect(text).not.toMatch(/permissions: [0-7]+\n/);
      for (const f of userDataOf(plan, node).write_files) expect(f.permissions).toMatch(/^'?0[0-7]{3}'?$/);
    }
  });

  test('the node marker is one line of JSON naming the node', () => {
    const marker = fileAt(userDataOf(plan, worker), '/etc/k8s-lab/node.json').content;
    expect(marker.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(marker)).toMatchObject({ cluster: 'k8s-lab', hostname: worker.hostname, role: 'worker', pool: 'general', ip: worker.ip });
  });

  test('/etc/hosts maps the API endpoint and the node itself to their node-network addresses, and no other node', () => {
    const hosts = fileAt(userDataOf(plan, cp2), '/etc/hosts').content.split('\n');
    expect(hosts).toContain(`${plan.apiEndpoint.ip} ${plan.apiEndpoint.fqdn} ${plan.apiEndpoint.hostname}`);
    expect(hosts).toContain(`${cp2.ip} ${cp2.fqdn} ${cp2.hostname}`);
    // Other nodes come from the network's DNS: listing them would change every node's user-data when a worker is added.
    for (const n of plan.nodes.filter((x) => x !== cp2)) expect(hosts.join('\n')).not.toContain(n.hostname);
    expect(hosts.join('\n')).not.toMatch(/127\.0\.1\.1/);
    expect(userDataOf(plan, cp2).manage_etc_hosts).toBe(false);
  });

  test('spec.ssh.authorizedKeys go to the ubuntu user; none at all leaves the key list out (cloud-init wants at least one)', () => {
    const withKey = planOf({ ssh: { authorizedKeys: [TEST_SSH_KEY] } });
    expect(userDataOf(withKey, withKey.nodes[0]).users[0].ssh_authorized_keys).toEqual([TEST_SSH_KEY]);
    expect(userDataOf(plan, lb).users[0]).not.toHaveProperty('ssh_authorized_keys');
  });

  test('meta-data names a Kubernetes node\'s instance after cluster and host, whatever its user-data (its bootstrap runs once)', () => {
    expect(YAML.parse(renderNodeFiles(plan, cp2, FAKE_SECRETS)['meta-data'])).toEqual({ 'instance-id': 'k8s-lab-k8s-lab-cp-2', 'local-hostname': 'k8s-lab-cp-2' });
    const withKey = planOf({ ssh: { authorizedKeys: [TEST_SSH_KEY] } });
    expect(renderNodeFiles(withKey, withKey.controlPlanes[1], FAKE_SECRETS)['user-data']).not.toBe(renderNodeFiles(plan, cp2, FAKE_SECRETS)['user-data']);
    expect(renderNodeFiles(withKey, withKey.controlPlanes[1], FAKE_SECRETS)['meta-data']).toBe(renderNodeFiles(plan, cp2, FAKE_SECRETS)['meta-data']);
  });

  test('a load balancer\'s instance-id carries a hash of its user-data: more control planes, or a new SSH key, make it a new instance', () => {
    const idOf = (p: typeof plan) => (YAML.parse(renderNodeFiles(p, p.loadBalancers[0], FAKE_SECRETS)['meta-data']) as { 'instance-id': string })['instance-id'];
    const base = idOf(plan);
    expect(base).toMatch(/^k8s-lab-k8s-lab-lb-1-[0-9a-f]{12}$/);
    expect(idOf(planOf({}))).toBe(base);
    expect(idOf(planOf({ controlPlane: { count: 5 } }))).not.toBe(base);
    expect(idOf(planOf({ ssh: { authorizedKeys: [TEST_SSH_KEY] } }))).not.toBe(base);
  });

  test('no file of any node skips CA verification', () => {
    for (const node of plan.nodes) {
      for (const text of Object.values(renderNodeFiles(plan, node, FAKE_SECRETS))) expect(text).not.toMatch(/unsafeSkipCAVerification|discovery-token-unsafe-skip/i);
    }
  });

  test('same plan and secrets give the same bytes', () => {
    for (const node of plan.nodes) expect(renderNodeFiles(planOf(), node, FAKE_SECRETS)).toEqual(renderNodeFiles(plan, node, FAKE_SECRETS));
  });

  test('fails when the node is not part of the plan', () => {
    const other = planOf({ name: 'other' });
    expect(() => renderNodeFiles(plan, other.controlPlanes[0], FAKE_SECRETS)).toThrow(/node other-cp-1 is not a node of this plan \(cluster k8s-lab plans k8s-lab-lb-1, /);
  });
});

describe('renderNodeFiles: steps per role', () => {
  test('first control plane: prepare-node then init-control-plane', () => {
    expect(bootstrapStepsOf(plan, cp1, FAKE_SECRETS).map((s) => s.name)).toEqual(['prepare-node', 'init-control-plane']);
    expect(fileAt(userDataOf(plan, cp1), RUNNER).content).toContain('steps=(prepare-node init-control-plane)');
  });
  test('other control planes and workers: prepare-node then join-node', () => {
    for (const node of [cp2, nodeOf(plan, 'cp-3'), worker]) {
      expect(bootstrapStepsOf(plan, node, FAKE_SECRETS).map((s) => s.name)).toEqual(['prepare-node', 'join-node']);
    }
  });
  test('load balancer: load-balancer only, no Kubernetes packages and no kubeadm config', () => {
    expect(bootstrapStepsOf(plan, lb, FAKE_SECRETS).map((s) => s.name)).toEqual(['load-balancer']);
    const text = userDataText(plan, lb);
    expect(text).not.toMatch(/kubelet|kubeadm\.yaml|containerd/);
    expect(Object.keys(renderNodeFiles(plan, lb, FAKE_SECRETS)).sort()).toEqual(['haproxy.cfg', 'meta-data', 'user-data']);
  });
  test('control planes and workers carry their kubeadm config (0600) and expose it as kubeadm.yaml', () => {
    for (const node of [cp1, cp2, worker]) {
      const files = renderNodeFiles(plan, node, FAKE_SECRETS);
      expect(Object.keys(files).sort()).toEqual(['kubeadm.yaml', 'meta-data', 'user-data']);
      const entry = fileAt(userDataOf(plan, node), '/etc/k8s-lab/kubeadm.yaml');
      expect(entry.permissions).toBe('0600');
      expect(entry.content).toBe(files['kubeadm.yaml']);
    }
  });
  test('each step script is written 0755, and the runner rendered for the node is the strict bash one (run on a fake node: bootstrap-runner.test.ts)', () => {
    const config = userDataOf(plan, worker);
    for (const step of ['prepare-node', 'join-node']) expect(fileAt(config, script(step)).permissions).toBe('0755');
    const runner = fileAt(config, RUNNER).content;
    expect(runner).toContain('set -euo pipefail');
    expect(runner).toMatch(/sed -u "s\/\^\/\[k8s-lab \$\{step\}\] \/"/);
    expect(runner).toMatch(/FAILED[^\n]*\n\s+exit 1/);
    expect(runner).toContain('touch /var/lib/k8s-lab/bootstrap.done');
  });
});

describe('first control plane', () => {
  const config = userDataOf(plan, cp1);
  const init = fileAt(config, script('init-control-plane')).content;

  test('stages the cluster CA: certificate 0644, key 0600, exactly the secrets', () => {
    expect(fileAt(config, '/etc/k8s-lab/pki/ca.crt')).toMatchObject({ content: FAKE_SECRETS.caCertPem, permissions: '0644' });
    expect(fileAt(config, '/etc/k8s-lab/pki/ca.key')).toMatchObject({ content: FAKE_SECRETS.caKeyPem, permissions: '0600' });
  });
  test('renders the CA install into /etc/kubernetes/pki (key 0600) inside the init loop, before kubeadm init', () => {
    const installKey = init.indexOf('install -m 0600 /etc/k8s-lab/pki/ca.key /etc/kubernetes/pki/ca.key');
    const callInstall = init.indexOf('    install_ca\n');
    const kubeadmInit = init.indexOf('kubeadm init --config /etc/k8s-lab/kubeadm.yaml --upload-certs --skip-token-print --skip-certificate-key-print');
    expect(installKey).toBeGreaterThan(0);
    expect(callInstall).toBeGreaterThan(installKey);
    expect(kubeadmInit).toBeGreaterThan(callInstall);
  });
  test('never combines --config with --certificate-key', () => {
    expect(init).not.toContain('--certificate-key');
  });
  test('renders kubeadm init in a bounded loop: a fixed number of attempts with kubeadm reset -f between', () => {
    expect(init).toContain(`readonly attempts=${INIT_ATTEMPTS}`);
    expect(init).toMatch(/if \(\(attempt >= attempts\)\); then\n[^\n]*giving up[^\n]*\n\s+exit 1/);
    expect(init).toContain('kubeadm reset -f');
  });
  test('renders a guard that skips kubeadm init once admin.conf exists', () => {
    expect(init).toMatch(/if \[\[ -f \/etc\/kubernetes\/admin\.conf \]\]; then\n\s+echo "kubeadm init: already done/);
  });
  test('renders the calico install from a pinned release, with CALICO_IPV4POOL_CIDR = podCidr', () => {
    expect(init).toContain(`https://raw.githubusercontent.com/projectcalico/calico/${CALICO_VERSION}/manifests/calico.yaml`);
    expect(init).toContain('kubectl --server "${local_api}" apply --server-side --force-conflicts -k "${cni_dir}"');
    const kustomization = YAML.parse(fileAt(config, '/etc/k8s-lab/cni/kustomization.yaml').content);
    expect(kustomization).toEqual({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['calico.yaml'], patches: [{ path: 'pod-network.yaml' }] });
    const patch = YAML.parse(fileAt(config, '/etc/k8s-lab/cni/pod-network.yaml').content);
    expect(patch.metadata).toEqual({ name: 'calico-node', namespace: 'kube-system' });
    expect(patch.spec.template.spec.containers[0].env).toEqual([{ name: 'CALICO_IPV4POOL_CIDR', value: '10.244.0.0/16' }]);
  });
  test('flannel: pinned release, net-conf.json Network = podCidr', () => {
    const flannel = planOf({ kubernetes: { cni: Cni.FLANNEL, podCidr: '10.32.0.0/16' } });
    const c = userDataOf(flannel, flannel.controlPlanes[0]);
    expect(fileAt(c, script('init-control-plane')).content).toContain(`https://github.com/flannel-io/flannel/releases/download/${FLANNEL_VERSION}/kube-flannel.yml`);
    const patch = YAML.parse(fileAt(c, '/etc/k8s-lab/cni/pod-network.yaml').content);
    expect(patch.metadata).toEqual({ name: 'kube-flannel-cfg', namespace: 'kube-flannel' });
    expect(JSON.parse(patch.data['net-conf.json'])).toEqual({ Network: '10.32.0.0/16', EnableNFTables: false, Backend: { Type: 'vxlan' } });
    expect(YAML.parse(fileAt(c, '/etc/k8s-lab/cni/kustomization.yaml').content).resources).toEqual(['kube-flannel.yml']);
  });
  test('gives the ubuntu user the admin kubeconfig, 0600', () => {
    expect(init).toContain('install -m 0600 -o ubuntu -g ubuntu /etc/kubernetes/admin.conf /home/ubuntu/.kube/config');
  });
});

/** A PEM certificate's base64 body on one line: how it reads in YAML whatever the block style. */
const certificateBody = (pem: string): string => pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))[1];

describe('the CA goes to the first control plane only', () => {
  test.each(plan.nodes.filter((n) => n !== cp1).map((n) => [n.hostname, n] as const))('%s carries no CA key and no CA certificate file', (_name, node) => {
    const text = userDataText(plan, node);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(certificateBody(FAKE_SECRETS.caCertPem));
    expect(userDataOf(plan, node).write_files.map((f) => f.path).filter((p) => /\/pki\/ca\.(crt|key)$/.test(p))).toEqual([]);
  });
});

describe('joining nodes', () => {
  const join = fileAt(userDataOf(plan, worker), script('join-node')).content;

  test('render a wait for /readyz through the load balancer, bounded by a deadline with a clear message and exit 1', () => {
    expect(join).toContain(`readonly readyz=https://${plan.apiEndpoint.fqdn}:6443/readyz`);
    expect(join).toContain(`readonly wait_timeout=${API_WAIT_TIMEOUT_SECONDS}`);
    expect(API_WAIT_TIMEOUT_SECONDS).toBeLessThanOrEqual(20 * 60);
    expect(join).toMatch(/until curl -fsk --max-time 5 -o \/dev\/null "\$\{readyz\}"; do\n\s+if \(\(SECONDS >= deadline\)\); then\n\s+echo "timed out[^\n]*>&2\n\s+exit 1/);
  });
  test('render every wait for another node 10 times longer under emulation (domainType qemu): the API, the external etcd, the etcd peers', () => {
    const qemu = planOf({ libvirt: { domainType: DomainType.QEMU }, etcd: { topology: EtcdTopology.EXTERNAL, count: 3 } });
    const kvm = planOf({ etcd: { topology: EtcdTopology.EXTERNAL, count: 3 } });
    const waits = (p: typeof qemu) => {
      const text = (n: (typeof p.nodes)[number]) => renderNodeFiles(p, n, FAKE_SECRETS_WITH_ETCD)['user-data'];
      const num = (t: string, name: string) => Number(new RegExp(`readonly ${name}=(\\d+)`).exec(t)?.[1]);
      return { api: num(text(p.workers[0]), 'wait_timeout'), etcd: num(text(p.controlPlanes[0]), 'wait_timeout'), peers: num(text(p.etcdNodes[0]), 'health_timeout') };
    };
    expect(EMULATION_WAIT_FACTOR).toBe(10);
    expect(waits(kvm)).toEqual({ api: API_WAIT_TIMEOUT_SECONDS, etcd: ETCD_WAIT_TIMEOUT_SECONDS, peers: ETCD_HEALTH_TIMEOUT_SECONDS });
    expect(waits(qemu)).toEqual({ api: API_WAIT_TIMEOUT_SECONDS * 10, etcd: ETCD_WAIT_TIMEOUT_SECONDS * 10, peers: ETCD_HEALTH_TIMEOUT_SECONDS * 10 });
  });
  test('render kubeadm join --config in bounded retries with kubeadm reset -f between', () => {
    expect(join).toContain('if kubeadm join --config /etc/k8s-lab/kubeadm.yaml; then');
    expect(join).toContain(`readonly attempts=${JOIN_ATTEMPTS}`);
    expect(join).toMatch(/if \(\(attempt >= attempts\)\); then\n[^\n]*giving up[^\n]*\n\s+exit 1/);
    expect(join).toContain('kubeadm reset -f');
  });
  test('render a guard that skips the join once kubelet.conf exists', () => {
    expect(join).toMatch(/if \[\[ -f \/etc\/kubernetes\/kubelet\.conf \]\]; then\n[^\n]*\n\s+exit 0/);
  });
  test('a joining control plane uses the same join step', () => {
    expect(fileAt(userDataOf(plan, cp2), script('join-node')).content).toBe(join);
  });
  test('labels and taints of a pool reach the node through its kubeadm config', () => {
    const labelled = planOf(LABELLED_SPEC);
    const gpu = nodeOf(labelled, 'worker-gpu-1');
    const kubeadm = YAML.parse(fileAt(userDataOf(labelled, gpu), '/etc/k8s-lab/kubeadm.yaml').content);
    expect(kubeadm.nodeRegistration.taints).toEqual([{ key: 'example.com/gpu', value: 'true', effect: 'NoSchedule' }]);
    expect(JSON.stringify(kubeadm.nodeRegistration.kubeletExtraArgs)).toContain('example.com/accelerator=fake-gpu');
  });
});

describe('node preparation (control planes and workers)', () => {
  const config = userDataOf(plan, worker);
  const prepare = fileAt(config, script('prepare-node')).content;

  test('containerd: SystemdCgroup = true and the pause image of kubeadm 1.36', () => {
    const toml = fileAt(config, '/etc/k8s-lab/containerd/config.toml').content;
    expect(toml).toMatch(/\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc\.options\]\n\s+SystemdCgroup = true/);
    expect(toml).toContain('sandbox_image = "registry.k8s.io/pause:3.10.2"');
    expect(prepare).toContain('install -m 0644 /etc/k8s-lab/containerd/config.toml /etc/containerd/config.toml');
  });
  test('kernel modules overlay and br_netfilter, forwarding and bridge sysctls', () => {
    expect(fileAt(config, '/etc/modules-load.d/k8s-lab.conf').content.split('\n')).toEqual(expect.arrayContaining(['overlay', 'br_netfilter']));
    expect(fileAt(config, '/etc/sysctl.d/99-k8s-lab.conf').content.split('\n')).toEqual(
      expect.arrayContaining(['net.ipv4.ip_forward = 1', 'net.bridge.bridge-nf-call-iptables = 1', 'net.bridge.bridge-nf-call-ip6tables = 1']),
    );
    expect(prepare).toContain('swapoff -a');
  });
  test('the pkgs.k8s.io repository of the minor line, its key fetched at boot', () => {
    expect(fileAt(config, '/etc/k8s-lab/apt/kubernetes.list').content).toBe(
      'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.36/deb/ /\n',
    );
    expect(prepare).toContain('readonly repo_key_url=https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key');
    expect(prepare).toContain('curl -fsSL --retry 5 --retry-delay 5 "${repo_key_url}" | gpg --batch --yes --dearmor -o "${keyring}.tmp"');
  });
  test('kubelet, kubeadm, kubectl pinned to <version>-* (apt pin and install) and held', () => {
    expect(fileAt(config, '/etc/apt/preferences.d/k8s-lab-kubernetes').content).toContain('Package: kubelet kubeadm kubectl\nPin: version 1.36.3-*\nPin-Priority: 1001\n');
    expect(prepare).toContain("readonly version_glob='1.36.3-*'");
    expect(prepare).toContain('apt-get install -y -q "kubelet=${version_glob}" "kubeadm=${version_glob}" "kubectl=${version_glob}"');
    expect(prepare).toContain('apt-mark hold kubelet kubeadm kubectl');
  });
  test('follows spec.kubernetes.version (repository, pin, pause image)', () => {
    const newer = planOf({ kubernetes: { version: '1.37.2' } });
    const c = userDataOf(newer, newer.workers[0]);
    expect(fileAt(c, '/etc/k8s-lab/apt/kubernetes.list').content).toContain('/core:/stable:/v1.37/deb/');
    expect(fileAt(c, '/etc/apt/preferences.d/k8s-lab-kubernetes').content).toContain('Pin: version 1.37.2-*');
    expect(fileAt(c, '/etc/k8s-lab/containerd/config.toml').content).toContain('registry.k8s.io/pause:3.10.2');
  });
});

describe('load balancer', () => {
  const config = userDataOf(plan, lb);
  test('renders a step that stages haproxy.cfg from haproxyConfigForCluster and checks it with haproxy -c before it installs it and restarts', () => {
    const files = renderNodeFiles(plan, lb, FAKE_SECRETS);
    expect(fileAt(config, '/etc/k8s-lab/haproxy/haproxy.cfg').content).toBe(files['haproxy.cfg']);
    const s = fileAt(config, script('load-balancer')).content;
    const check = s.indexOf('haproxy -c -f "${staged}"');
    const install = s.indexOf('install -m 0644 "${staged}" "${live}"');
    expect(check).toBeGreaterThan(0);
    expect(install).toBeGreaterThan(check);
    expect(s).toContain('systemctl restart haproxy');
    expect(s).toContain("readonly live=/etc/haproxy/haproxy.cfg");
  });
});

describe('golden user-data per role (FAKE_SECRETS)', () => {
  test.each([
    ['first control plane', 'cp-1'],
    ['joining control plane', 'cp-2'],
    ['worker', 'worker-general-1'],
    ['load balancer', 'lb-1'],
  ])('%s', (_role, suffix) => {
    expect(userDataText(plan, nodeOf(plan, suffix))).toMatchSnapshot();
  });
  test('external etcd member (FAKE_SECRETS + the fake etcd set)', () => {
    expect(renderNodeFiles(externalEtcdPlan, etcd1, FAKE_SECRETS_WITH_ETCD)['user-data']).toMatchSnapshot();
  });
  test('roles in the golden set cover every NodeRole', () => {
    expect(new Set([cp1, cp2, worker, lb, etcd1].map((n) => n.role))).toEqual(new Set(Object.values(NodeRole)));
  });
});
