import * as fs from 'fs';
import * as path from 'path';
import {
  ApiObservation,
  LibvirtObservation,
  clusterReport,
  formatReport,
  parseDhcpLeases,
  parseDomState,
  parseDomainNames,
  parseEtcdPods,
  parseNodeList,
  parseReadyz,
  parseStatusArgs,
} from '../../host/cluster-status';
import { ClusterSpecInput, parseClusterSpec, planCluster } from '../../spec';

// Parsers run over outputs captured from the real virsh and kubectl (see __tests__/fixtures/status/README.md).
const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'status', name), 'utf8');

/** The deploy tier's cluster, whose real virsh outputs the fixtures are. */
const CI_SPEC: ClusterSpecInput = {
  name: 'k8s-lab-ci',
  network: { cidr: '10.213.7.0/24', domain: 'ci.k8s-lab.test' },
  controlPlane: { count: 1, vcpu: 2, memoryMiB: 1700, diskGiB: 5 },
  workerPools: [{ name: 'ci', count: 1, vcpu: 1, memoryMiB: 1024, diskGiB: 5 }],
  loadBalancer: { count: 1, vcpu: 1, memoryMiB: 512, diskGiB: 5 },
};
const plan = planCluster(parseClusterSpec(CI_SPEC).spec);

/** libvirt as captured: every domain running, every lease held. */
const running: LibvirtObservation = {
  kind: 'answered',
  uri: 'qemu:///system',
  domainStates: Object.fromEntries(parseDomainNames(fixture('virsh-list-all-name.txt')).map((n) => [n, parseDomState(fixture('virsh-domstate-running.txt'))])),
  leases: parseDhcpLeases(fixture('virsh-net-dhcp-leases.txt')),
};
/** The API as it answers a healthy cluster. */
const healthy: ApiObservation = {
  kind: 'answered',
  server: 'https://10.213.7.5:6443',
  readyz: parseReadyz(fixture('kubectl-readyz-ok.stdout')),
  nodes: [
    { name: 'k8s-lab-ci-cp-1', ready: true, roles: ['control-plane'] },
    { name: 'k8s-lab-ci-worker-ci-1', ready: true, roles: [], pool: 'ci' },
  ],
  etcdPods: parseEtcdPods(fixture('etcd-pods.json')),
};

describe('parsers of the real outputs', () => {
  test('virsh list --all --name, domstate and net-dhcp-leases', () => {
    expect(parseDomainNames(fixture('virsh-list-all-name.txt'))).toEqual(['k8s-lab-ci-worker-ci-1', 'k8s-lab-ci-cp-1', 'k8s-lab-ci-lb-1']);
    expect(parseDomState(fixture('virsh-domstate-running.txt'))).toBe('running');
    expect(parseDhcpLeases(fixture('virsh-net-dhcp-leases.txt'))).toEqual([
      { mac: '52:54:00:d5:07:05', ip: '10.213.7.5', hostname: 'k8s-lab-ci-lb-1' },
      { mac: '52:54:00:d5:07:0a', ip: '10.213.7.10', hostname: 'k8s-lab-ci-cp-1' },
      { mac: '52:54:00:d5:07:32', ip: '10.213.7.50', hostname: 'k8s-lab-ci-worker-ci-1' },
    ]);
    expect(parseDhcpLeases('')).toEqual([]);
  });

  test('/readyz?verbose: passed on stdout; failed (500) escaped inside kubectl\'s error line', () => {
    const ok = parseReadyz(fixture('kubectl-readyz-ok.stdout'));
    expect(ok.ok).toBe(true);
    expect(ok.checks).toMatchObject({ ping: true, etcd: true, 'poststarthook/start-apiserver-admission-initializer': true });
    const failing = parseReadyz(fixture('kubectl-readyz-failing.stderr'));
    expect(failing.ok).toBe(false);
    expect(failing.checks).toEqual({ ping: true, log: true, etcd: false, 'etcd-readiness': false, 'informer-sync': true, shutdown: true });
  });

  test('a NodeList: Ready, roles from node-role labels, the pool label', () => {
    expect(parseNodeList(fixture('nodes.json'))).toEqual([
      { name: 'k8s-lab-ci-cp-1', ready: true, roles: ['control-plane'] },
      { name: 'k8s-lab-ci-worker-ci-1', ready: false, roles: [], pool: 'ci' },
    ]);
  });
});

describe('the report', () => {
  test('ready when every node runs, holds its planned lease and is a Ready Node with its role and pool, /readyz is ok and etcd is Ready', () => {
    const report = clusterReport(plan, { libvirt: running, api: healthy });
    expect(report.problems).toEqual([]);
    expect(report.ready).toBe(true);
    expect(report.lines).toEqual([
      'NODE                    ROLE           IP           DOMAIN   LEASE        KUBERNETES',
      'k8s-lab-ci-lb-1         load-balancer  10.213.7.5   running  10.213.7.5   -',
      'k8s-lab-ci-cp-1         control-plane  10.213.7.10  running  10.213.7.10  Ready control-plane',
      'k8s-lab-ci-worker-ci-1  worker/ci      10.213.7.50  running  10.213.7.50  Ready pool=ci',
      'API   https://10.213.7.5:6443/readyz: ok',
      'etcd  stacked: 1/1 members Ready (k8s-lab-ci-cp-1)',
    ]);
    expect(formatReport(plan, 'ci.yaml', report, '/x/k8s-lab-ci.kubeconfig')).toMatch(/\nREADY: /);
  });

  test('fails when nothing is deployed: one line says so and what to do, plus the missing network and kubeconfig', () => {
    const report = clusterReport(plan, { libvirt: { kind: 'answered', uri: 'qemu:///system', domainStates: {} }, api: { kind: 'no-kubeconfig', path: '/x/k8s-lab-ci.kubeconfig' } });
    expect(report.ready).toBe(false);
    expect(report.problems).toEqual([
      'the network k8s-lab-ci-net does not exist at qemu:///system: run npm run deploy',
      'none of the 3 planned domains exists at qemu:///system: the cluster is not deployed; run npm run deploy',
      'no kubeconfig at /x/k8s-lab-ci.kubeconfig: run npm run synth (it writes <cluster>.kubeconfig), or pass --kubeconfig PATH',
    ]);
  });

  test('fails when libvirt does not answer: says so with virsh\'s own reason, and how to report without it', () => {
    const error = 'Failed to connect socket to \'/nonexistent\': No such file or directory';
    expect(fixture('virsh-unreachable.stderr')).toContain(error);
    const report = clusterReport(plan, { libvirt: { kind: 'unreachable', uri: 'qemu+unix:///system?socket=/nonexistent', error }, api: healthy });
    expect(report.problems).toEqual([`libvirt at qemu+unix:///system?socket=/nonexistent does not answer (${error}): start libvirtd (bash scripts/libvirtd.sh), check the spec's libvirt.uri, or pass --no-libvirt to report the API only`]);
    expect(report.lines[1]).toMatch(/^k8s-lab-ci-lb-1\s+load-balancer\s+10\.213\.7\.5\s+\?\s+\?\s+-$/);
  });

  test('--no-libvirt: the API alone decides (a cluster of container nodes)', () => {
    const report = clusterReport(plan, { libvirt: { kind: 'skipped' }, api: healthy });
    expect(report.ready).toBe(true);
    expect(report.lines[2]).toMatch(/\(skipped\)\s+\(skipped\)\s+Ready control-plane$/);
  });

  test('fails when a domain is shut off, a running one has no lease yet, and a lease is not the planned IP', () => {
    const libvirt: LibvirtObservation = {
      kind: 'answered',
      uri: 'qemu:///system',
      domainStates: { 'k8s-lab-ci-lb-1': 'shut off', 'k8s-lab-ci-cp-1': 'running', 'k8s-lab-ci-worker-ci-1': 'running' },
      leases: [{ mac: '52:54:00:d5:07:32', ip: '10.213.7.99', hostname: 'k8s-lab-ci-worker-ci-1' }],
    };
    expect(clusterReport(plan, { libvirt, api: healthy }).problems).toEqual([
      'k8s-lab-ci-lb-1: its domain is shut off: start it with virsh -c qemu:///system start k8s-lab-ci-lb-1',
      'k8s-lab-ci-cp-1: no DHCP lease yet: it is still booting; wait, or look at its console (virsh -c qemu:///system console k8s-lab-ci-cp-1)',
      'k8s-lab-ci-worker-ci-1: holds 10.213.7.99 but the plan pins 10.213.7.50 to its MAC 52:54:00:D5:07:32: check the network\'s DHCP host entries (npm run diff)',
    ]);
  });

  test('fails when the API does not answer through the load balancer, with kubectl\'s reason', () => {
    const error = fixture('kubectl-refused.stderr').trim();
    const report = clusterReport(plan, { libvirt: running, api: { kind: 'unreachable', server: 'https://10.213.7.5:6443', error } });
    expect(report.lines).toContain(`API   https://10.213.7.5:6443/readyz: no answer (${error})`);
    expect(report.problems).toEqual([expect.stringMatching(/^the API at https:\/\/10\.213\.7\.5:6443 does not answer through the load balancer: the first control plane's bootstrap takes minutes/)]);
  });

  test('fails when a Node is NotReady, another has not joined, etcd is failing and a pool label is wrong', () => {
    const api: ApiObservation = {
      kind: 'answered',
      server: 'https://10.213.7.5:6443',
      readyz: parseReadyz(fixture('kubectl-readyz-failing.stderr')),
      nodes: parseNodeList(fixture('nodes.json')).map((n) => (n.pool ? { ...n, pool: 'other' } : n)),
      etcdPods: [],
    };
    const { problems, lines } = clusterReport(plan, { libvirt: running, api });
    expect(problems).toEqual([
      'k8s-lab-ci-worker-ci-1: registered but not Ready (kubelet or CNI still starting: kubectl describe node k8s-lab-ci-worker-ci-1)',
      'k8s-lab-ci-worker-ci-1: its k8s-lab.io/pool label is other, the plan says ci',
      "the API answers but is not ready: etcd, etcd-readiness failing (kubectl get --raw '/readyz?verbose')",
      'etcd on k8s-lab-ci-cp-1: no member pod yet',
    ]);
    expect(lines).toContain('etcd  stacked: 0/1 members Ready');
    // AND a control plane that has not registered says which kubeadm step it waits for
    const missing = clusterReport(plan, { libvirt: running, api: { ...healthy, nodes: [] } as ApiObservation }).problems;
    expect(missing).toContain('k8s-lab-ci-cp-1: not a Node of the cluster yet: its kubeadm init has not finished (see bootstrap/README.md for its logs)');
    expect(missing).toContain('k8s-lab-ci-worker-ci-1: not a Node of the cluster yet: its kubeadm join has not finished (see bootstrap/README.md for its logs)');
  });

  test('external etcd: judged by the API\'s etcd check', () => {
    const external = planCluster(parseClusterSpec({ ...CI_SPEC, etcd: { topology: 'external', count: 1 } } as ClusterSpecInput).spec);
    const failing = { ...healthy, readyz: parseReadyz(fixture('kubectl-readyz-failing.stderr')), etcdPods: undefined } as ApiObservation;
    const report = clusterReport(external, { libvirt: { kind: 'skipped' }, api: failing });
    expect(report.lines).toContain("etcd  external, 1 member(s) planned; the API's etcd check: failing");
    expect(report.problems).toContain("the API cannot reach its external etcd (readyz etcd check): see the etcd VMs' logs (bootstrap/README.md)");
  });
});

describe('the command line', () => {
  test('--kubeconfig, --no-libvirt, --wait and --interval, also as --flag=value', () => {
    expect(parseStatusArgs([])).toEqual({ noLibvirt: false, intervalSeconds: 10, help: false });
    expect(parseStatusArgs(['--kubeconfig', 'a.conf', '--no-libvirt', '--wait=600', '--interval', '5'])).toEqual({ kubeconfig: 'a.conf', noLibvirt: true, waitSeconds: 600, intervalSeconds: 5, help: false });
  });

  test('fails when an option is unknown or a value is missing or not whole seconds, naming it and what is allowed', () => {
    expect(() => parseStatusArgs(['--wiat', '5'])).toThrow('unknown argument "--wiat"; allowed: --kubeconfig PATH, --no-libvirt, --wait SECONDS, --interval SECONDS, --help');
    expect(() => parseStatusArgs(['--wait'])).toThrow('--wait must be followed by a whole number of seconds, at least 1; got null');
    expect(() => parseStatusArgs(['--wait', '1.5'])).toThrow('--wait must be followed by a whole number of seconds, at least 1; got "1.5"');
    expect(() => parseStatusArgs(['--kubeconfig'])).toThrow('--kubeconfig must be followed by a path; got null');
  });
});
