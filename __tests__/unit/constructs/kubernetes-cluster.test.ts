import { domain, network, pool, volume } from '../../../.gen/providers/libvirt';
import { resourceChanges, resources, synthCluster } from '../../support/synth';

type Iface = { network_id: string; hostname: string; mac: string; addresses: string[]; wait_for_lease: boolean };
type Domain = { name: string; vcpu: number; memory: number; network_interface: Iface[]; disk: { volume_id: string }[]; cloudinit?: string; type: string };

describe('KubernetesCluster', () => {
  describe('with the default spec', () => {
    // GIVEN the embedded default spec  WHEN the stack is synthesized
    const { json, tf } = synthCluster();
    const domains = Object.values(resources(tf, 'libvirt_domain')) as unknown as Domain[];

    test('makes 6 domains: 1 load balancer, 3 control planes, 2 workers', () => {
      // THEN
      expect(domains.map((d) => d.name).sort()).toEqual([
        'k8s-lab-cp-1',
        'k8s-lab-cp-2',
        'k8s-lab-cp-3',
        'k8s-lab-lb-1',
        'k8s-lab-worker-general-1',
        'k8s-lab-worker-general-2',
      ]);
    });

    test('makes one NAT network, one dir pool, a base image and a disk and NoCloud seed volume per node', () => {
      expect(json).toHaveResourceWithProperties(network.Network, { name: 'k8s-lab-net', mode: 'nat', addresses: ['192.168.150.0/24'], domain: 'k8s.lab' });
      expect(json).toHaveResourceWithProperties(pool.Pool, { name: 'k8s-lab', type: 'dir', target: { path: '/var/lib/libvirt/images/k8s-lab' } });
      expect(json).toHaveResourceWithProperties(volume.Volume, { name: 'k8s-lab-base.qcow2', format: 'qcow2', source: expect.stringMatching(/^https:\/\/cloud-images\.ubuntu\.com\//) });
      expect(Object.keys(resources(tf, 'libvirt_network'))).toHaveLength(1);
      expect(Object.keys(resources(tf, 'libvirt_pool'))).toHaveLength(1);
      expect(Object.keys(resources(tf, 'libvirt_volume'))).toHaveLength(1 + 6 + 6);
    });

    test('synthesizes no libvirt_cloudinit_disk: the provider downloads those back on every refresh', () => {
      expect(tf.resource.libvirt_cloudinit_disk).toBeUndefined();
      expect(json).not.toContain('libvirt_cloudinit_disk');
      for (const d of domains) expect(d.cloudinit).toBeUndefined();
    });

    test('sizes each role as the spec says', () => {
      const byName = Object.fromEntries(domains.map((d) => [d.name, d]));
      expect(byName['k8s-lab-cp-1']).toMatchObject({ vcpu: 2, memory: 4096, type: 'kvm' });
      expect(byName['k8s-lab-worker-general-1']).toMatchObject({ vcpu: 2, memory: 4096 });
      expect(byName['k8s-lab-lb-1']).toMatchObject({ vcpu: 1, memory: 1024 });
    });

    test('gives every node a unique MAC and IP, pinned as a lease, without waiting for DHCP', () => {
      const ifaces = domains.map((d) => d.network_interface[0]);
      expect(new Set(ifaces.map((i) => i.mac)).size).toBe(6);
      expect(new Set(ifaces.map((i) => i.addresses[0])).size).toBe(6);
      for (const i of ifaces) {
        expect(i.addresses).toHaveLength(1);
        expect(i.wait_for_lease).toBe(false);
        // The MAC carries the IP's last three octets (spec/address-plan.ts).
        const [, b, c, d] = i.addresses[0].split('.').map(Number);
        expect(i.mac).toBe(['52', '54', '00', ...[b, c, d].map((o) => o.toString(16).padStart(2, '0').toUpperCase())].join(':'));
      }
    });

    test('names every node, and the API endpoint, in the network DNS at its leased IP', () => {
      const net = Object.values(resources(tf, 'libvirt_network'))[0] as { dns: { hosts: { hostname: string; ip: string }[] } };
      const dnsHosts = Object.fromEntries(net.dns.hosts.map((h) => [h.hostname, h.ip]));
      for (const d of domains) {
        expect(dnsHosts[d.name]).toBe(d.network_interface[0].addresses[0]);
        expect(d.network_interface[0].hostname).toBe(d.name);
      }
      expect(dnsHosts.api).toBe(dnsHosts['k8s-lab-lb-1']);
    });

    test('backs every node disk by the base image, and attaches its own seed volume as the second disk', () => {
      const vols = resources(tf, 'libvirt_volume');
      const baseId = Object.keys(vols).find((k) => vols[k].name === 'k8s-lab-base.qcow2');
      const volumeOf = (ref: string) => vols[/^\$\{libvirt_volume\.(.+)\.id\}$/.exec(ref)![1]];
      for (const d of domains) {
        expect(d.disk).toHaveLength(2);
        const disk = volumeOf(d.disk[0].volume_id);
        expect(disk.base_volume_id).toBe(`\${libvirt_volume.${baseId}.id}`);
        expect(disk.name).toBe(`${d.name}.qcow2`);
        // The seed: named after the node and its content's hash, uploaded from the image synth writes
        // beside cdk.tf.json, in the format libvirt's dir pool reads an ISO back as.
        const seed = volumeOf(d.disk[1].volume_id);
        expect(seed.name).toMatch(new RegExp(`^${d.name}-seed-[0-9a-f]{12}\\.iso$`));
        expect(seed).toMatchObject({ pool: disk.pool, source: `seeds/${seed.name}`, format: 'iso' });
        expect(seed.size).toBeUndefined();
      }
    });

    test('has outputs for nodes, the API endpoint, SSH commands and fetching the kubeconfig, named as the README lists them', () => {
      expect(Object.keys(tf.output).sort()).toEqual(['api_endpoint', 'api_endpoint_ip', 'kubeconfig_command', 'nodes', 'ssh_commands']);
      const values = Object.values(tf.output).map((o) => o.value);
      expect(values).toContainEqual(expect.objectContaining({ 'k8s-lab-cp-1': '192.168.150.10', 'k8s-lab-lb-1': '192.168.150.5' }));
      expect(values).toContain('https://api.k8s.lab:6443');
      expect(values).toContainEqual(expect.objectContaining({ 'k8s-lab-cp-1': 'ssh ubuntu@192.168.150.10' }));
      // the fetched admin.conf goes to a file of its own, never over the kubeconfig synth wrote
      expect(values).toContain("(umask 077 && ssh ubuntu@192.168.150.10 'cloud-init status --wait >/dev/null; cat .kube/config' > k8s-lab-cp-1.kubeconfig)");
    });

    test('matches the golden snapshot of the default stack', () => {
      expect(json).toMatchSnapshot();
    });
  });

  test('growing workerPools[0].count from 2 to 4 adds two VMs and changes no existing resource but the network\'s DNS hosts, which it only adds to', () => {
    // GIVEN the default cluster and the same with two more workers
    const before = synthCluster().tf;
    const after = synthCluster({ workerPools: [{ name: 'general', count: 4 }] }).tf;
    // WHEN they are compared
    const changes = resourceChanges(before, after);
    // THEN exactly the new workers' domain, disk and seed are added, nothing is changed or removed, and the DNS hosts only grew
    expect(changes).toMatchObject({ changed: [], removed: [], dnsHostsKept: true });
    expect(changes.added).toHaveLength(6);
    expect(changes.added.filter((a) => a.startsWith('libvirt_domain.'))).toHaveLength(2);
  });

  test('adding a pool at the end adds its VMs and changes no existing resource but the network\'s DNS hosts, which it only adds to', () => {
    const changes = resourceChanges(synthCluster().tf, synthCluster({ workerPools: [{ name: 'general' }, { name: 'gpu', count: 1 }] }).tf);
    expect(changes).toMatchObject({ changed: [], removed: [], dnsHostsKept: true });
    expect(changes.added.filter((a) => a.startsWith('libvirt_domain.'))).toEqual([expect.stringMatching(/WorkerPool-gpu.*Node1/)]);
  });

  test('adding a pool before another moves that pool\'s addresses, and so replaces its VMs (README: add pools at the end)', () => {
    const changes = resourceChanges(synthCluster().tf, synthCluster({ workerPools: [{ name: 'gpu', count: 1 }, { name: 'general' }] }).tf);
    expect(changes.changed.filter((c) => c.startsWith('libvirt_domain.') && c.includes('general'))).toHaveLength(2);
  });

  test('a pool whose addressBlock is pinned keeps its addresses and VMs when a pool is added before it, or the pool before it removed', () => {
    // GIVEN pools a and b, b pinned to its block (1)
    const before = synthCluster({ workerPools: [{ name: 'a', count: 1 }, { name: 'b', count: 2, addressBlock: 1 }] }).tf;
    // WHEN a pool is added before both (taking block 2), or a is removed
    const inserted = synthCluster({ workerPools: [{ name: 'c', count: 1, addressBlock: 2 }, { name: 'a', count: 1, addressBlock: 0 }, { name: 'b', count: 2, addressBlock: 1 }] }).tf;
    const removed = synthCluster({ workerPools: [{ name: 'b', count: 2, addressBlock: 1 }] }).tf;
    // THEN nothing of b changes in either; only c is added, only a removed
    const ofB = (ids: string[]) => ids.filter((id) => id.includes('WorkerPool-b'));
    for (const after of [inserted, removed]) expect(ofB(resourceChanges(before, after).changed)).toEqual([]);
    expect(resourceChanges(before, inserted)).toMatchObject({ changed: [], removed: [] });
    expect(resourceChanges(before, removed).changed).toEqual([]);
    expect(resourceChanges(before, removed).removed.every((id) => id.includes('WorkerPool-a'))).toBe(true);
  });

  test('lowering a count removes the highest-numbered VM with its disk and seed, and changes nothing else', () => {
    const changes = resourceChanges(synthCluster().tf, synthCluster({ workerPools: [{ name: 'general', count: 1 }] }).tf);
    expect(changes.changed).toEqual([]);
    expect(changes.removed).toHaveLength(3);
    expect(changes.removed.every((r) => /WorkerPool-general.*Node2/.test(r))).toBe(true);
  });

  test('a change to user-data only (a pool\'s labels) gives each of its nodes a new seed, and so a new domain: the comparison follows references', () => {
    // GIVEN the default cluster, and the same with a label on the pool's nodes
    const changes = resourceChanges(synthCluster().tf, synthCluster({ workerPools: [{ name: 'general', labels: { zone: 'a' } }] }).tf);
    // THEN both workers' seeds changed (their user-data), and their domains with them, though the domains' own text did not
    expect(changes.changed.filter((c) => c.startsWith('libvirt_volume.') && c.includes('Seed'))).toHaveLength(2);
    expect(changes.changed.filter((c) => c.startsWith('libvirt_domain.'))).toHaveLength(2);
    expect(changes.changed.every((c) => c.includes('WorkerPool-general'))).toBe(true);
  });

  test('changing image.source replaces the base image, and with it every node\'s root disk and domain (README: their data is lost)', () => {
    const changes = resourceChanges(synthCluster().tf, synthCluster({ image: { source: '/var/lib/images/noble.img' } }).tf);
    const of = (type: string) => changes.changed.filter((c) => c.startsWith(`${type}.`));
    expect(of('libvirt_volume').filter((c) => c.includes('BaseImage'))).toHaveLength(1);
    expect(of('libvirt_volume').filter((c) => /_Disk/.test(c))).toHaveLength(6);
    expect(of('libvirt_domain')).toHaveLength(6);
  });

  test('the comparison finds changed bodies and dropped DNS hosts (it can fail)', () => {
    // GIVEN the default cluster, and the same with bigger workers and one worker fewer
    const changes = resourceChanges(synthCluster().tf, synthCluster({ workerPools: [{ name: 'general', count: 1, vcpu: 4 }] }).tf);
    // THEN the remaining worker's domain changed, the other's resources are removed, and its DNS host is gone
    expect(changes.changed.filter((c) => c.startsWith('libvirt_domain.'))).toHaveLength(1);
    expect(changes.removed.filter((c) => c.startsWith('libvirt_domain.'))).toHaveLength(1);
    expect(changes.dnsHostsKept).toBe(false);
  });

  test.each([1, 2])('growing the control plane from 3 to 5 (%i load balancer(s)) adds two and replaces only the load balancers, whose HAProxy lists every control plane', (lbCount) => {
    // GIVEN a cluster, and the same with two more control planes
    const loadBalancer = lbCount === 2 ? { count: 2, virtualIp: '192.168.150.2' } : { count: 1 };
    const changes = resourceChanges(synthCluster({ loadBalancer }).tf, synthCluster({ loadBalancer, controlPlane: { count: 5 } }).tf);
    // THEN two control planes are added (domain, disk, seed each), and each load balancer's seed and so its domain are new
    expect(changes).toMatchObject({ removed: [], dnsHostsKept: true });
    expect(changes.added.filter((a) => a.startsWith('libvirt_domain.'))).toEqual([expect.stringMatching(/ControlPlane.*Node4/), expect.stringMatching(/ControlPlane.*Node5/)]);
    expect(changes.changed.map((c) => c.replace(/_[0-9A-F]{8}$/, ''))).toEqual(
      (lbCount === 2 ? ['1', '2'] : ['1']).flatMap((n) => [`libvirt_domain.Cluster_LoadBalancer_Node${n}_Domain`, `libvirt_volume.Cluster_LoadBalancer_Node${n}_Seed`]).sort(),
    );
  });

  test('uses the domain type of the spec (qemu emulation where KVM is missing), with the CPU model each can run', () => {
    const { json } = synthCluster({ libvirt: { domainType: 'qemu' as never } });
    expect(json).toHaveResourceWithProperties(domain.Domain, { type: 'qemu', cpu: { mode: 'maximum' } });
    expect(json).not.toHaveResourceWithProperties(domain.Domain, { type: 'kvm' });
    expect(synthCluster({}).json).toHaveResourceWithProperties(domain.Domain, { type: 'kvm', cpu: { mode: 'host-passthrough' } });
  });

  test('warns about an even control-plane count', () => {
    const { stack } = synthCluster({ controlPlane: { count: 2 } });
    const warnings = stack.cluster.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(warnings.join('\n')).toMatch(/controlPlane\.count is 2: etcd's quorum is 2/);
  });

  test('makes one WorkerPool per spec entry, each with its own nodes', () => {
    const { tf } = synthCluster({ workerPools: [{ name: 'general', count: 1 }, { name: 'gpu', count: 2, labels: { accel: 'gpu' } }] });
    const names = Object.values(resources(tf, 'libvirt_domain')).map((d) => d.name as string);
    expect(names.filter((n) => n.includes('-worker-'))).toEqual(['k8s-lab-worker-general-1', 'k8s-lab-worker-gpu-1', 'k8s-lab-worker-gpu-2']);
  });
});
