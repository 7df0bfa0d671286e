import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClusterSpecError, ClusterSpecInput, loadClusterSpec, parseClusterSpec, parseClusterSpecYaml, planCluster } from '../../../spec';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl fake@example';

/** The message of the ClusterSpecError that `doc` raises. */
function errorOf(doc: unknown): string {
  try {
    parseClusterSpec(doc as ClusterSpecInput);
  } catch (e) {
    if (e instanceof ClusterSpecError) return e.message;
    throw e;
  }
  throw new Error('expected the spec to be rejected');
}

describe('cluster spec defaults', () => {
  test('the empty document is the default cluster: 3 control planes, one pool of 2 workers, calico', () => {
    const { spec } = parseClusterSpec({});
    expect(spec.name).toBe('k8s-lab');
    expect(spec.controlPlane).toEqual({ count: 3, vcpu: 2, memoryMiB: 4096, diskGiB: 20 });
    expect(spec.workerPools).toEqual([{ name: 'general', count: 2, vcpu: 2, memoryMiB: 4096, diskGiB: 30, labels: {}, taints: [] }]);
    expect(spec.loadBalancer).toMatchObject({ count: 1, vcpu: 1, memoryMiB: 1024, diskGiB: 10 });
    expect(spec.kubernetes).toMatchObject({ podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', cni: 'calico' });
    expect(spec.libvirt).toEqual({ uri: 'qemu:///system', poolPath: '/var/lib/libvirt/images/k8s-lab', domainType: 'kvm' });
  });

  test('the default node network does not collide with libvirt\'s default network', () => {
    expect(parseClusterSpec({}).spec.network.cidr).not.toMatch(/^192\.168\.122\./);
  });

  test('objects merge field by field with the defaults; arrays replace', () => {
    // GIVEN a document that changes one field of controlPlane and replaces workerPools
    const { spec } = parseClusterSpec({ controlPlane: { count: 5 }, workerPools: [{ name: 'big', memoryMiB: 8192 }] });
    // THEN the other fields keep their defaults
    expect(spec.controlPlane).toEqual({ count: 5, vcpu: 2, memoryMiB: 4096, diskGiB: 20 });
    expect(spec.workerPools).toEqual([{ name: 'big', count: 2, vcpu: 2, memoryMiB: 8192, diskGiB: 30, labels: {}, taints: [] }]);
  });

  test('the pool path follows the cluster name unless given', () => {
    expect(parseClusterSpec({ name: 'lab2' }).spec.libvirt.poolPath).toBe('/var/lib/libvirt/images/lab2');
    expect(parseClusterSpec({ libvirt: { poolPath: '/srv/vm' } }).spec.libvirt.poolPath).toBe('/srv/vm');
  });

  test('warns, without failing, about an even or single control plane and no SSH keys', () => {
    expect(parseClusterSpec({ controlPlane: { count: 2 } }).warnings.join('\n')).toMatch(/controlPlane\.count is 2.*odd/);
    expect(parseClusterSpec({ controlPlane: { count: 1 } }).warnings.join('\n')).toMatch(/controlPlane\.count is 1: no high availability/);
    expect(parseClusterSpec({}).warnings.join('\n')).toMatch(/ssh\.authorizedKeys is empty/);
    expect(parseClusterSpec({ ssh: { authorizedKeys: [KEY] } }).warnings).toEqual([]);
  });
});

describe('cluster spec validation', () => {
  test.each<[string, unknown, RegExp]>([
    ['fails when a key is unknown (a typo)', { controlPlane: { cont: 3 } }, /controlPlane\.cont: unknown key.*allowed at controlPlane: count, vcpu, memoryMiB, diskGiB/],
    ['fails when a top-level key is unknown', { workers: [] }, /workers: unknown key.*allowed at \(top level\): name, /],
    ['fails when a type is wrong, saying what the number may be', { controlPlane: { count: 'three' } }, /controlPlane\.count: must be a whole number from 1 to 9 \(got "three"\)/],
    ['fails when a count is a fraction, saying what it may be', { workerPools: [{ name: 'a', count: 2.5 }] }, /workerPools\[0\]\.count: must be a whole number of at least 0 \(got 2\.5\)/],
    ['fails when a number is infinite, printing it as such', { workerPools: [{ name: 'a', count: Infinity }] }, /workerPools\[0\]\.count: must be a whole number of at least 0 \(got Infinity\)/],
    ['fails when the name is not a DNS-1123 label', { name: 'K8s_Lab' }, /name: must be a DNS-1123 label.*\(got "K8s_Lab"\)/],
    ['fails when a control plane has less than kubeadm\'s 2 vCPU', { controlPlane: { vcpu: 1 } }, /controlPlane\.vcpu: must be at least 2 \(kubeadm's minimum\) \(got 1\)/],
    ['fails when a control plane has less than kubeadm\'s 1700 MiB', { controlPlane: { memoryMiB: 1024 } }, /controlPlane\.memoryMiB: must be at least 1700 \(kubeadm's minimum\) \(got 1024\)/],
    ['fails when a size is not a whole number', { workerPools: [{ name: 'a', diskGiB: 10.5 }] }, /workerPools\[0\]\.diskGiB: .*\(got 10\.5\)/],
    ['fails when a worker pool has no name, saying it is required', { workerPools: [{ count: 1 }] }, /workerPools\[0\]\.name: is required: a string \(got nothing\)/],
    ['fails when YAML read a label value as a boolean, saying to quote it', { workerPools: [{ name: 'a', labels: { gpu: true } }] }, /workerPools\[0\]\.labels\.gpu: must be a string; YAML reads true as a boolean, so quote it: "true" \(got true\)/],
    ['fails when YAML read the version as a number, saying to quote it and what the quoted text lacks', { kubernetes: { version: 1.36 } }, /kubernetes\.version: must be a string; YAML reads 1\.36 as a number, so quote it: "1\.36", though "1\.36" would be refused too: must be a release 1\.36\.x to 1\.37\.x .* \(got 1\.36\)/],
    ['fails when a section is not a mapping, or a list is not a list, in words', { controlPlane: 3, workerPools: { name: 'x' } }, /controlPlane: must be a mapping \(key: value\) \(got 3\)[\s\S]*workerPools: must be a list \(got \{"name":"x"\}\)/],
    ['fails when a switch is not true or false', { image: { prebaked: 'yes' } }, /image\.prebaked: must be true or false \(got "yes"\)/],
    ['fails when pool names repeat', { workerPools: [{ name: 'a' }, { name: 'a' }] }, /workerPools\[1\]\.name: must be unique; workerPools\[0\] has the same name \(got "a"\)/],
    ['fails when a pool name is not a DNS-1123 label', { workerPools: [{ name: 'GPU' }] }, /workerPools\[0\]\.name: must be a DNS-1123 label/],
    ['fails when a label key is invalid', { workerPools: [{ name: 'a', labels: { '-bad': 'x' } }] }, /workerPools\[0\]\.labels\["-bad"\]: key must be a label key/],
    ['fails when a label value is invalid', { workerPools: [{ name: 'a', labels: { tier: 'no spaces' } }] }, /workerPools\[0\]\.labels\.tier: must be a label value.*\(got "no spaces"\)/],
    ['fails when a node label is one the kubelet may not set (NodeRestriction)', { workerPools: [{ name: 'a', labels: { 'node-role.kubernetes.io/worker': '' } }] }, /labels\["node-role\.kubernetes\.io\/worker"\]: key must be a label the kubelet may set/],
    ['fails when a pool sets the pool label itself', { workerPools: [{ name: 'a', labels: { 'k8s-lab.io/pool': 'b' } }] }, /workerPools\[0\]\.labels: must not set k8s-lab\.io\/pool/],
    ['fails when a taint effect is unknown', { workerPools: [{ name: 'a', taints: [{ key: 'gpu', effect: 'Never' }] }] }, /workerPools\[0\]\.taints\[0\]\.effect: must be one of NoSchedule, PreferNoSchedule, NoExecute \(got "Never"\)/],
    ['fails when a taint key is invalid', { workerPools: [{ name: 'a', taints: [{ key: 'a/b/c', effect: 'NoSchedule' }] }] }, /workerPools\[0\]\.taints\[0\]\.key: must be a label key/],
    ['fails when a CIDR does not parse', { network: { cidr: '192.168.150.0/33' } }, /network\.cidr: must be an IPv4 network in CIDR notation.*\(got "192\.168\.150\.0\/33"\)/],
    ['fails when a CIDR has host bits set', { network: { cidr: '192.168.150.7/24' } }, /network\.cidr: must be an IPv4 network.*no host bits/],
    ['fails when the pod network overlaps the node network', { kubernetes: { podCidr: '192.168.0.0/16' } }, /kubernetes\.podCidr: must not overlap network\.cidr \(192\.168\.150\.0\/24\) \(got "192\.168\.0\.0\/16"\)/],
    ['fails when the service network overlaps the pod network', { kubernetes: { serviceCidr: '10.244.128.0/20' } }, /kubernetes\.serviceCidr: must not overlap kubernetes\.podCidr/],
    ['fails when the node network is too small for every node', { network: { cidr: '192.168.150.0/26' } }, /network\.cidr: is too small: .* use a larger network/],
    ['fails when a pool has more nodes than its address block', { workerPools: [{ name: 'a', count: 51 }] }, /workerPools\[0\]\.count: must be at most network\.addressesPerPool \(50\) \(got 51\)/],
    ['fails when an SSH key does not parse', { ssh: { authorizedKeys: ['ssh-rsa notakey'] } }, /ssh\.authorizedKeys\[0\]: must be an OpenSSH public key line/],
    ['fails when the CNI is unknown', { kubernetes: { cni: 'weave' } }, /kubernetes\.cni: must be one of calico, flannel \(got "weave"\)/],
    ['fails when the Kubernetes version is not a supported patch release', { kubernetes: { version: '1.29.0' } }, /kubernetes\.version: must be a release 1\.36\.x to 1\.37\.x/],
    ['fails when the Kubernetes version is not MAJOR.MINOR.PATCH', { kubernetes: { version: 'v1.36' } }, /kubernetes\.version: .*\(got "v1\.36"\)/],
    ['fails when the domain type is unknown', { libvirt: { domainType: 'xen' } }, /libvirt\.domainType: must be one of kvm, qemu \(got "xen"\)/],
    ['fails when the pool path is relative', { libvirt: { poolPath: 'images' } }, /libvirt\.poolPath: must be an absolute local path/],
    ['fails when the image source is neither a URL nor an absolute path', { image: { source: 'noble.img' } }, /image\.source: must be an http\(s\) URL with a host, or an absolute local path/],
    ['fails when two load balancers have no virtual IP', { loadBalancer: { count: 2 } }, /loadBalancer\.virtualIp: is required when loadBalancer\.count is 2/],
    ['fails when the virtual IP is outside its reserved range', { loadBalancer: { count: 2, virtualIp: '192.168.150.10' } }, /loadBalancer\.virtualIp: must be one of the addresses .* 192\.168\.150\.2 to 192\.168\.150\.4/],
    ['fails when the control-plane count is out of range', { controlPlane: { count: 0 } }, /controlPlane\.count: must be at least 1 \(got 0\)/],
    ['fails when one load balancer is given a virtual IP (no keepalived holds it)', { loadBalancer: { count: 1, virtualIp: '192.168.150.3' } }, /loadBalancer\.virtualIp: must be left out when loadBalancer\.count is 1.* \(got "192\.168\.150\.3"\)/],
    ['fails when a pool repeats a taint key and effect', { workerPools: [{ name: 'a', taints: [{ key: 'k', effect: 'NoSchedule' }, { key: 'k', value: 'v', effect: 'NoSchedule' }] }] }, /workerPools\[0\]\.taints\[1\]: must be unique by key and effect; taints\[0\] has the same key and effect \(k:NoSchedule\)/],
    ['fails when the Kubernetes version has a leading zero (kubeadm refuses it)', { kubernetes: { version: '1.36.03' } }, /kubernetes\.version: must be a release .* without leading zeros.*\(got "1\.36\.03"\)/],
    ['fails when the service network is larger than kubeadm allows', { kubernetes: { serviceCidr: '10.0.0.0/11', podCidr: '172.16.0.0/16' } }, /kubernetes\.serviceCidr: must be a network of \/12 to \/28 .*\(got "10\.0\.0\.0\/11"\)/],
    ['fails when the service network has no 10th address for the cluster DNS', { kubernetes: { serviceCidr: '10.96.0.0/29' } }, /kubernetes\.serviceCidr: must be a network of \/12 to \/28/],
    ['fails when the pod network is smaller than one node\'s /24', { kubernetes: { podCidr: '10.244.0.0/25' } }, /kubernetes\.podCidr: must be a network of \/8 to \/24 \(kubeadm gives each node a \/24 of it\) \(got "10\.244\.0\.0\/25"\)/],
    ['fails when the pod network is larger than kubeadm allows', { kubernetes: { podCidr: '10.0.0.0/7', serviceCidr: '172.16.0.0/16' } }, /kubernetes\.podCidr: must be a network of \/8 to \/24/],
    ['fails when the pod network has fewer /24s than the cluster has nodes', { kubernetes: { podCidr: '10.244.0.0/23' } }, /kubernetes\.podCidr: is too small: it holds 2 node range\(s\) of \/24, but the cluster has 5 nodes .*use a \/21 or larger \(got "10\.244\.0\.0\/23"\)/],
    ['fails when no pod network kubeadm allows holds the nodes, without suggesting one it refuses', { network: { cidr: '172.0.0.0/8', addressesPerPool: 70000 }, workerPools: [{ name: 'a', count: 70000 }] }, /kubernetes\.podCidr: is too small for 70003 nodes, and so is any pod network kubeadm allows \(a \/8 holds 65536 node ranges\)/],
    ['fails when two pools take the same address block, one by its position', { workerPools: [{ name: 'a' }, { name: 'b', addressBlock: 0 }] }, /workerPools\[1\]\.addressBlock: must differ from every other pool's block; workerPools\[0\] has block 0 \(its addressBlock, or else its position\) \(got 0\)/],
    ['fails when an address block lies past the node network', { workerPools: [{ name: 'a', addressBlock: 4 }] }, /network\.cidr: is too small: 5 worker address block\(s\) of network\.addressesPerPool=50 addresses from offset 50 need host offset 299/],
    ['fails when an address block is negative', { workerPools: [{ name: 'a', addressBlock: -1 }] }, /workerPools\[0\]\.addressBlock: must be at least 0 \(got -1\)/],
    ['fails when the node network is loopback', { network: { cidr: '127.0.0.0/24' } }, /network\.cidr: must not overlap 127\.0\.0\.0\/8 \(loopback\) \(got "127\.0\.0\.0\/24"\)/],
    ['fails when the pod network is multicast', { kubernetes: { podCidr: '224.0.0.0/16' } }, /kubernetes\.podCidr: must not overlap 224\.0\.0\.0\/4 \(multicast\)/],
    ['fails when the document is not a mapping', ['a'], /\(top level\): must be a mapping/],
  ])('%s', (_name, doc, message) => {
    // GIVEN a bad spec document  WHEN it is parsed  THEN the error names the field, the value and what is allowed
    expect(errorOf(doc)).toMatch(message);
  });

  test('reports every problem at once', () => {
    const message = errorOf({ name: 'X', controlPlane: { vcpu: 1 } });
    expect(message).toMatch(/name: /);
    expect(message).toMatch(/controlPlane\.vcpu: /);
  });
});

describe('loading a spec file', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reads CLUSTER_CONFIG', () => {
    fs.writeFileSync(path.join(dir, 'big.yaml'), 'workerPools:\n  - name: general\n    count: 10\n');
    const { spec, source } = loadClusterSpec({ CLUSTER_CONFIG: 'big.yaml' }, dir);
    expect(spec.workerPools[0].count).toBe(10);
    expect(source).toBe(path.join(dir, 'big.yaml'));
  });

  test('falls back to cluster.yaml at the root, then to the default', () => {
    expect(loadClusterSpec({}, dir).source).toBe('embedded default');
    fs.writeFileSync(path.join(dir, 'cluster.yaml'), 'name: from-file\n');
    expect(loadClusterSpec({}, dir).spec.name).toBe('from-file');
  });

  test('fails when cluster.yaml is a link to nothing, rather than building the default cluster', () => {
    fs.symlinkSync(path.join(dir, 'moved-away.yaml'), path.join(dir, 'cluster.yaml'));
    expect(() => loadClusterSpec({}, dir)).toThrow(/cluster\.yaml: cannot read the file \(ENOENT\); it must be a readable YAML file \(got ".*cluster\.yaml"\)/);
  });

  test('fails when CLUSTER_CONFIG names a missing file', () => {
    expect(() => loadClusterSpec({ CLUSTER_CONFIG: 'nope.yaml' }, dir)).toThrow(/CLUSTER_CONFIG: the file does not exist \(got "nope\.yaml"\)/);
  });

  test('fails when CLUSTER_CONFIG names a directory, with a spec error rather than a stack trace', () => {
    expect(() => loadClusterSpec({ CLUSTER_CONFIG: '.' }, dir)).toThrow(/CLUSTER_CONFIG: cannot read the file \(EISDIR\); it must be a readable YAML file \(got "\."\)/);
  });

  test('fails on a YAML syntax error, naming it', () => {
    expect(() => parseClusterSpecYaml('controlPlane: {count: 3\n', 'x.yaml')).toThrow(/invalid cluster spec \(x\.yaml\):\n  - YAML syntax: /);
  });

  test('fails on a duplicated key', () => {
    expect(() => parseClusterSpecYaml('name: a\nname: b\n', 'x.yaml')).toThrow(/YAML syntax: .*[Mm]ap keys must be unique/);
  });
});

describe('node plan', () => {
  test('lays nodes out in fixed ranges: LB .5, control planes .10+, each pool its own block from .50', () => {
    const plan = planCluster(parseClusterSpec({ workerPools: [{ name: 'a', count: 2 }, { name: 'b', count: 1 }] }).spec);
    expect(plan.nodes.map((n) => `${n.hostname}=${n.ip}`)).toEqual([
      'k8s-lab-lb-1=192.168.150.5',
      'k8s-lab-cp-1=192.168.150.10',
      'k8s-lab-cp-2=192.168.150.11',
      'k8s-lab-cp-3=192.168.150.12',
      'k8s-lab-worker-a-1=192.168.150.50',
      'k8s-lab-worker-a-2=192.168.150.51',
      'k8s-lab-worker-b-1=192.168.150.100',
    ]);
    expect(plan.apiEndpoint).toEqual({ hostname: 'api', fqdn: 'api.k8s.lab', ip: '192.168.150.5', port: 6443 });
    expect(plan.network.gateway).toBe('192.168.150.1');
  });

  test('workers carry their pool\'s labels and taints, plus the pool label', () => {
    const plan = planCluster(parseClusterSpec({ workerPools: [{ name: 'gpu', count: 1, labels: { accel: 'nvidia' }, taints: [{ key: 'gpu', effect: 'NoSchedule' }] }] }).spec);
    expect(plan.workers[0].labels).toEqual({ accel: 'nvidia', 'k8s-lab.io/pool': 'gpu' });
    expect(plan.workers[0].taints).toEqual([{ key: 'gpu', value: '', effect: 'NoSchedule' }]);
    expect(plan.controlPlanes[0].labels).toEqual({});
  });

  test('the API endpoint is the virtual IP when two load balancers share one', () => {
    const plan = planCluster(parseClusterSpec({ loadBalancer: { count: 2, virtualIp: '192.168.150.4' } }).spec);
    expect(plan.apiEndpoint.ip).toBe('192.168.150.4');
    expect(plan.loadBalancers.map((n) => n.ip)).toEqual(['192.168.150.5', '192.168.150.6']);
  });
});
