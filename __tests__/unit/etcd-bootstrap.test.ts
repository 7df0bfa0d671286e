import * as YAML from 'yaml';
import {
  CloudConfig,
  ETCD_HEALTH_TIMEOUT_SECONDS,
  ETCD_WAIT_TIMEOUT_SECONDS,
  bootstrapStepsOf,
  etcdFirewallRules,
  etcdMemberConfigFile,
  etcdMemberConfigInputOf,
  etcdReleaseFor,
  kubeadmInitDocuments,
  renderKubeadmConfig,
  renderNodeFiles,
} from '../../bootstrap';
import { EtcdTopology } from '../../spec';
import { fileAt, nodeOf, planOf } from '../fixtures/bootstrap-helpers';
import { FAKE_ETCD_SECRETS, FAKE_SECRETS, FAKE_SECRETS_WITH_ETCD } from '../fixtures/fake-secrets';

const plan = planOf({ etcd: { topology: EtcdTopology.EXTERNAL } });
const etcd1 = nodeOf(plan, 'etcd-1');
const cp1 = nodeOf(plan, 'cp-1');
const cp2 = nodeOf(plan, 'cp-2');
const worker = nodeOf(plan, 'worker-general-1');
const userData = (node = etcd1) => YAML.parse(renderNodeFiles(plan, node, FAKE_SECRETS_WITH_ETCD)['user-data']) as CloudConfig;
const script = (config: CloudConfig, step: string) => fileAt(config, `/usr/local/sbin/k8s-lab-${step}.sh`).content;

describe('etcd member configuration (etcd --config-file)', () => {
  const config = etcdMemberConfigFile(etcdMemberConfigInputOf(plan, etcd1));

  test('names the member by hostname; the initial cluster lists every member by name and https peer URL on 2380', () => {
    expect(config.name).toBe('k8s-lab-etcd-1');
    expect(config['initial-cluster']).toBe('k8s-lab-etcd-1=https://192.168.150.20:2380,k8s-lab-etcd-2=https://192.168.150.21:2380,k8s-lab-etcd-3=https://192.168.150.22:2380');
    expect(config['initial-cluster-state']).toBe('new');
    expect(config['initial-cluster-token']).toBe('k8s-lab-etcd');
  });
  test('clients on https://<ip>:2379 (and loopback for etcdctl), peers on https://<ip>:2380', () => {
    expect(config['listen-client-urls']).toBe('https://192.168.150.20:2379,https://127.0.0.1:2379');
    expect(config['advertise-client-urls']).toBe('https://192.168.150.20:2379');
    expect(config['listen-peer-urls']).toBe('https://192.168.150.20:2380');
    expect(config['initial-advertise-peer-urls']).toBe('https://192.168.150.20:2380');
    expect(config['listen-metrics-urls']).toBe('http://127.0.0.1:2381');
  });
  test('both listeners require client certificates signed by the etcd CA, with no self-signed fallback', () => {
    expect(config['client-transport-security']).toEqual({ 'cert-file': '/etc/etcd/pki/server.crt', 'key-file': '/etc/etcd/pki/server.key', 'trusted-ca-file': '/etc/etcd/pki/ca.crt', 'client-cert-auth': true, 'auto-tls': false });
    expect(config['peer-transport-security']).toEqual({ 'cert-file': '/etc/etcd/pki/peer.crt', 'key-file': '/etc/etcd/pki/peer.key', 'trusted-ca-file': '/etc/etcd/pki/ca.crt', 'client-cert-auth': true, 'auto-tls': false });
  });
  test('fails when the member is not in the initial cluster, or the ports collide', () => {
    const input = etcdMemberConfigInputOf(plan, etcd1);
    expect(() => etcdMemberConfigFile({ ...input, name: 'stranger' })).toThrow(/name must be one of initialCluster \(k8s-lab-etcd-1, k8s-lab-etcd-2, k8s-lab-etcd-3\), got "stranger"/);
    expect(() => etcdMemberConfigFile({ ...input, clientPort: 2380 })).toThrow(/clientPort and peerPort must differ, both are 2380/);
    expect(() => etcdMemberConfigFile({ ...input, peerPort: 70000 })).toThrow(/peerPort must be a TCP port 1-65535, got 70000/);
  });
  test('fails for a node that is not an etcd member', () => {
    expect(() => etcdMemberConfigInputOf(plan, cp1)).toThrow(/node must be one of plan\.etcdNodes \(k8s-lab-etcd-1, k8s-lab-etcd-2, k8s-lab-etcd-3\), got k8s-lab-cp-1 \(control-plane\)/);
  });
});

describe('etcd firewall (nftables)', () => {
  const rules = etcdFirewallRules({ clientSources: ['10.0.0.10', '10.0.0.20'], peerSources: ['10.0.0.20'] }).join('\n');
  test('2379 only from the client sources, 2380 only from the peers, both dropped otherwise; nothing else filtered', () => {
    expect(rules).toContain('elements = { 10.0.0.10, 10.0.0.20 }');
    expect(rules).toMatch(/tcp dport 2379 ip saddr @etcd_clients accept\n\t\ttcp dport 2380 ip saddr @etcd_peers accept\n\t\ttcp dport \{ 2379, 2380 \} counter drop/);
    expect(rules).toContain('policy accept;');
    expect(rules).toContain('iif "lo" accept');
  });
  test('re-applying replaces its own table atomically', () => {
    expect(rules).toMatch(/^# .*\ntable inet k8s_lab_etcd\ndelete table inet k8s_lab_etcd\ntable inet k8s_lab_etcd \{/);
  });
  test('the plan: the control-plane and etcd address ranges may use 2379, the etcd range only 2380 (no worker, no load balancer)', () => {
    const nft = fileAt(userData(), '/etc/k8s-lab/etcd/firewall.nft').content;
    expect(nft).toContain('elements = { 192.168.150.10-192.168.150.18, 192.168.150.20-192.168.150.28 }');
    expect(nft).toContain('elements = { 192.168.150.20-192.168.150.28 }');
    expect(nft).not.toContain(worker.ip);
  });
  test('growing controlPlane.count leaves every etcd member\'s user-data unchanged (so no etcd VM is replaced)', () => {
    const grown = planOf({ etcd: { topology: EtcdTopology.EXTERNAL }, controlPlane: { count: 5 } });
    for (const n of plan.etcdNodes) {
      expect(renderNodeFiles(grown, nodeOf(grown, n.hostname.replace('k8s-lab-', '')), FAKE_SECRETS_WITH_ETCD)['user-data']).toBe(renderNodeFiles(plan, n, FAKE_SECRETS_WITH_ETCD)['user-data']);
    }
  });
  test('fails on an empty or malformed source list', () => {
    expect(() => etcdFirewallRules({ clientSources: [], peerSources: ['10.0.0.1'] })).toThrow(/clientSources must list at least one IPv4 address/);
    expect(() => etcdFirewallRules({ clientSources: ['10.0.0.1'], peerSources: ['10.0.0.1; flush ruleset'] })).toThrow(/peerSources entries must be IPv4 addresses or ranges a\.b\.c\.d-a\.b\.c\.e, got "10\.0\.0\.1; flush ruleset"/);
  });
});

describe('etcd member node', () => {
  const config = userData();
  const step = script(config, 'etcd-member');

  test('runs one step, etcd-member, and carries no kubeadm config and no Kubernetes packages', () => {
    expect(bootstrapStepsOf(plan, etcd1, FAKE_SECRETS_WITH_ETCD).map((s) => s.name)).toEqual(['etcd-member']);
    const files = renderNodeFiles(plan, etcd1, FAKE_SECRETS_WITH_ETCD);
    expect(Object.keys(files).sort()).toEqual(['etcd.conf.yml', 'meta-data', 'user-data']);
    expect(files['user-data']).not.toMatch(/kubeadm\.yaml|kubelet|pkgs\.k8s\.io/);
  });
  test('writes the etcd CA and its own server and peer pairs, keys 0600, and nothing of other members or the cluster CA', () => {
    const own = FAKE_ETCD_SECRETS.members['k8s-lab-etcd-1'];
    expect(fileAt(config, '/etc/etcd/pki/ca.crt')).toMatchObject({ content: FAKE_ETCD_SECRETS.caCertPem, permissions: '0644' });
    expect(fileAt(config, '/etc/etcd/pki/server.key')).toMatchObject({ content: own.serverKeyPem, permissions: '0600' });
    expect(fileAt(config, '/etc/etcd/pki/peer.key')).toMatchObject({ content: own.peerKeyPem, permissions: '0600' });
    const text = JSON.stringify(config);
    const absent = (pem: string) => expect(text).not.toContain(JSON.stringify(pem).slice(1, -1));
    for (const [name, member] of Object.entries(FAKE_ETCD_SECRETS.members)) {
      if (name === 'k8s-lab-etcd-1') continue;
      for (const pem of [member.serverCertPem, member.serverKeyPem, member.peerCertPem, member.peerKeyPem]) absent(pem);
    }
    for (const pem of [FAKE_ETCD_SECRETS.caKeyPem, FAKE_ETCD_SECRETS.apiserverClientCertPem, FAKE_ETCD_SECRETS.apiserverClientKeyPem, FAKE_SECRETS.caKeyPem, FAKE_SECRETS.caCertPem]) absent(pem);
  });
  test('the config file in user-data is the one exposed as etcd.conf.yml', () => {
    expect(fileAt(config, '/etc/etcd/etcd.conf.yml').content).toBe(renderNodeFiles(plan, etcd1, FAKE_SECRETS_WITH_ETCD)['etcd.conf.yml']);
  });
  test('etcd of kubeadm\'s own image for the release (registry.k8s.io/etcd:3.6.8-0 for 1.36), version checked after install', () => {
    expect(step).toContain('readonly etcd_image=registry.k8s.io/etcd:3.6.8-0');
    expect(step).toContain('readonly etcd_version=3.6.8');
    expect(step).toMatch(/ctr -n k8s-lab images mount "\$\{etcd_image\}" "\$\{rootfs\}"/);
    expect(step).toMatch(/if \[\[ "\$\(installed_version\)" != "\$\{etcd_version\}" \]\]; then\n\s+echo "[^\n]*expected \$\{etcd_version\}" >&2\n\s+exit 1/);
    expect(etcdReleaseFor('1.37.2')).toEqual({ image: 'registry.k8s.io/etcd:3.7.0-0', version: '3.7.0' });
    expect(() => etcdReleaseFor('1.38.0')).toThrow(/no etcd release known for 1\.38 \(known: 1\.36, 1\.37\)/);
  });
  test('renders the image pull in a bounded loop', () => {
    expect(step).toMatch(/until ctr -n k8s-lab images pull "\$\{etcd_image\}"; do\n\s+if \(\(attempt >= pull_attempts\)\); then\n[^\n]*giving up[^\n]*\n\s+exit 1/);
  });
  test('renders the firewall load (checked with nft -c first) before the etcd start', () => {
    const check = step.indexOf('nft -c -f /etc/k8s-lab/etcd/firewall.nft');
    const restart = step.indexOf('systemctl restart k8s-lab-etcd-firewall.service');
    const start = step.indexOf('systemctl start --no-block etcd.service');
    expect(check).toBeGreaterThan(0);
    expect(restart).toBeGreaterThan(check);
    expect(start).toBeGreaterThan(restart);
  });
  test('renders a wait for etcdctl endpoint health with the member\'s certificate, bounded by a deadline', () => {
    expect(step).toContain(`readonly health_timeout=${ETCD_HEALTH_TIMEOUT_SECONDS}`);
    expect(step).toContain('--endpoints https://127.0.0.1:2379 --cacert /etc/etcd/pki/ca.crt --cert /etc/etcd/pki/server.crt --key /etc/etcd/pki/server.key');
    expect(step).toMatch(/until etcdctl_ --command-timeout 5s endpoint health; do\n\s+if \(\(SECONDS >= deadline\)\); then\n\s+echo "timed out[^\n]*>&2\n\s+exit 1/);
  });
  test('renders a restart of etcd guarded by a comparison with the files of the last run', () => {
    expect(step).toMatch(/elif \[\[ "\$\(cat "\$\{state_file\}" 2>\/dev\/null\)" != "\$\{want\}" \]\]; then\n[^\n]*\n\s+systemctl restart --no-block etcd\.service/);
  });
  test('the systemd unit runs etcd from its config file', () => {
    expect(fileAt(config, '/etc/systemd/system/etcd.service').content).toContain('ExecStart=/usr/local/bin/etcd --config-file /etc/etcd/etcd.conf.yml');
  });
  test('fails, naming what to do, without etcd secrets', () => {
    expect(() => renderNodeFiles(plan, etcd1, FAKE_SECRETS)).toThrow(/secrets\.etcd is missing, but etcd\.topology is external/);
  });
});

describe('control planes of an external-etcd cluster', () => {
  test('prepare-node, etcd-client, then kubeadm init (first) or join (others); workers unchanged', () => {
    expect(bootstrapStepsOf(plan, cp1, FAKE_SECRETS_WITH_ETCD).map((s) => s.name)).toEqual(['prepare-node', 'etcd-client', 'init-control-plane']);
    expect(bootstrapStepsOf(plan, cp2, FAKE_SECRETS_WITH_ETCD).map((s) => s.name)).toEqual(['prepare-node', 'etcd-client', 'join-node']);
    expect(bootstrapStepsOf(plan, worker, FAKE_SECRETS_WITH_ETCD).map((s) => s.name)).toEqual(['prepare-node', 'join-node']);
  });
  test.each([['first', cp1], ['joining', cp2]] as const)('the %s control plane gets the etcd CA and the API server client pair (key 0600), outside /etc/kubernetes/pki', (_w, node) => {
    const config = userData(node);
    expect(fileAt(config, '/etc/kubernetes/etcd-client/ca.crt')).toMatchObject({ content: FAKE_ETCD_SECRETS.caCertPem, permissions: '0644' });
    expect(fileAt(config, '/etc/kubernetes/etcd-client/apiserver-etcd-client.crt')).toMatchObject({ content: FAKE_ETCD_SECRETS.apiserverClientCertPem, permissions: '0644' });
    expect(fileAt(config, '/etc/kubernetes/etcd-client/apiserver-etcd-client.key')).toMatchObject({ content: FAKE_ETCD_SECRETS.apiserverClientKeyPem, permissions: '0600' });
  });
  test('workers get no etcd material', () => {
    const text = JSON.stringify(userData(worker));
    expect(text).not.toMatch(/etcd-client|PRIVATE KEY-----/);
    expect(text).not.toContain(JSON.stringify(FAKE_ETCD_SECRETS.caCertPem).slice(1, -1));
    expect(text).not.toContain(JSON.stringify(FAKE_ETCD_SECRETS.apiserverClientCertPem).slice(1, -1));
  });
  test('etcd-client renders a bounded wait for /health of any member with the client certificate', () => {
    const s = script(userData(cp1), 'etcd-client');
    expect(s).toContain('endpoints=(https://192.168.150.20:2379 https://192.168.150.21:2379 https://192.168.150.22:2379)');
    expect(s).toContain(`readonly wait_timeout=${ETCD_WAIT_TIMEOUT_SECONDS}`);
    expect(s).toContain('--cacert /etc/kubernetes/etcd-client/ca.crt --cert /etc/kubernetes/etcd-client/apiserver-etcd-client.crt --key /etc/kubernetes/etcd-client/apiserver-etcd-client.key');
    expect(s).toMatch(/until healthy; do\n\s+if \(\(SECONDS >= deadline\)\); then\n\s+echo "timed out[^\n]*>&2\n\s+exit 1/);
  });
});

describe('kubeadm ClusterConfiguration', () => {
  test('external: etcd.external with every member\'s client URL and the client files', () => {
    const [, cluster] = kubeadmInitDocuments(plan, cp1, FAKE_SECRETS_WITH_ETCD);
    expect(cluster.etcd).toEqual({
      external: {
        endpoints: ['https://192.168.150.20:2379', 'https://192.168.150.21:2379', 'https://192.168.150.22:2379'],
        caFile: '/etc/kubernetes/etcd-client/ca.crt',
        certFile: '/etc/kubernetes/etcd-client/apiserver-etcd-client.crt',
        keyFile: '/etc/kubernetes/etcd-client/apiserver-etcd-client.key',
      },
    });
  });
  test('stacked: no etcd block (kubeadm runs a local member)', () => {
    const stacked = planOf();
    expect(kubeadmInitDocuments(stacked, stacked.controlPlanes[0], FAKE_SECRETS)[1]).not.toHaveProperty('etcd');
    expect(renderKubeadmConfig(stacked, stacked.controlPlanes[0], FAKE_SECRETS)).not.toContain('etcd');
  });
  test('join documents carry no etcd settings (they come from the cluster\'s kubeadm-config)', () => {
    expect(renderKubeadmConfig(plan, cp2, FAKE_SECRETS_WITH_ETCD)).not.toContain('etcd');
  });
});
