import { Testing } from 'cdktf';
import { ClusterStack, EtcdCluster, KubernetesCluster } from '../../constructs';
import { SeedImages } from '../../constructs/private/seed-images';
import { ClusterSpecInput, EtcdTopology, parseClusterSpec, planCluster } from '../../spec';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { TerraformJson, resourceChanges, resources, synthCluster } from '../support/synth';

type Domain = { name: string; network_interface: { addresses: string[] }[]; vcpu: number; memory: number };

/** The cluster of `doc` with an external etcd (the fake secrets with their etcd set). */
function synthExternal(doc: ClusterSpecInput = {}): { tf: TerraformJson; stack: ClusterStack } {
  return synthCluster({ ...doc, etcd: { topology: EtcdTopology.EXTERNAL, ...doc.etcd } });
}
const domains = (tf: TerraformJson) => Object.values(resources(tf, 'libvirt_domain')) as unknown as Domain[];

describe('EtcdCluster in KubernetesCluster', () => {
  test('external: 3 etcd + 3 control planes + 2 workers + 1 load balancer, the etcd members at .20-.22', () => {
    // GIVEN etcd.topology external  WHEN synthesized
    const { tf } = synthExternal();
    // THEN
    const byName = Object.fromEntries(domains(tf).map((d) => [d.name, d]));
    expect(Object.keys(byName).sort()).toEqual([
      'k8s-lab-cp-1', 'k8s-lab-cp-2', 'k8s-lab-cp-3',
      'k8s-lab-etcd-1', 'k8s-lab-etcd-2', 'k8s-lab-etcd-3',
      'k8s-lab-lb-1', 'k8s-lab-worker-general-1', 'k8s-lab-worker-general-2',
    ]);
    expect([1, 2, 3].map((i) => byName[`k8s-lab-etcd-${i}`].network_interface[0].addresses)).toEqual([['192.168.150.20'], ['192.168.150.21'], ['192.168.150.22']]);
    expect(byName['k8s-lab-etcd-1']).toMatchObject({ vcpu: 2, memory: 2048 });
    expect(Object.keys(resources(tf, 'libvirt_volume')).filter((id) => /_Seed_[0-9A-F]+$/.test(id))).toHaveLength(9);
  });

  test('the etcd VMs live under the construct ID Etcd, one Node<n> each', () => {
    const { stack } = synthExternal();
    const cluster = stack.node.children.find((c): c is KubernetesCluster => c instanceof KubernetesCluster)!;
    expect(cluster.etcd).toBeInstanceOf(EtcdCluster);
    expect(cluster.etcd!.node.id).toBe('Etcd');
    expect(cluster.etcd!.nodes.map((n) => n.node.id)).toEqual(['Node1', 'Node2', 'Node3']);
    const ids = Object.keys(resources(JSON.parse(Testing.synth(stack)), 'libvirt_domain'));
    expect(ids.filter((id) => /Etcd_Node\d_Domain/.test(id))).toHaveLength(3);
  });

  test('each etcd member boots with its own etcd-member bootstrap', () => {
    const { stack } = synthExternal();
    const seeds = [...SeedImages.of(stack).images.values()];
    const etcd2 = seeds.find((i) => i.fileName.startsWith('k8s-lab-etcd-2-seed-'))!;
    expect(etcd2.files['user-data']).toContain('/usr/local/sbin/k8s-lab-etcd-member.sh');
    expect(etcd2.files['user-data']).toContain('name: k8s-lab-etcd-2');
  });

  test('stacked: no Etcd construct, no etcd VM', () => {
    const { tf, stack } = synthCluster();
    const cluster = stack.node.children.find((c): c is KubernetesCluster => c instanceof KubernetesCluster)!;
    expect(cluster.etcd).toBeUndefined();
    expect(cluster.node.tryFindChild('Etcd')).toBeUndefined();
    expect(domains(tf).map((d) => d.name).filter((n) => n.includes('etcd'))).toEqual([]);
  });

  test('growing workerPools[0].count from 2 to 4 in an external-etcd cluster adds two VMs and changes no existing resource but the network\'s DNS hosts, which it only adds to', () => {
    const changes = resourceChanges(synthExternal().tf, synthExternal({ workerPools: [{ name: 'general', count: 4 }] }).tf);
    expect(changes).toMatchObject({ changed: [], removed: [], dnsHostsKept: true });
    expect(changes.added).toHaveLength(6);
    expect(changes.added.filter((a) => a.startsWith('libvirt_domain.'))).toHaveLength(2);
  });

  test('fails, naming the fix, when the secrets hold no etcd set', () => {
    const { spec } = parseClusterSpec({ etcd: { topology: EtcdTopology.EXTERNAL } });
    expect(() => new ClusterStack(Testing.app(), { spec, secrets: FAKE_SECRETS })).toThrow(/secrets\.etcd is missing, but etcd\.topology is external/);
  });

  test('fails when built for a stacked plan', () => {
    const plan = planCluster(parseClusterSpec({}).spec);
    const stack = Testing.stubVersion(Testing.app());
    expect(() => new EtcdCluster(stack, 'Etcd', { plan, secrets: FAKE_SECRETS, storagePoolName: 'p', baseVolumeId: 'b', networkId: 'n' })).toThrow(/plan\.etcdNodes is empty \(etcd\.topology is "stacked"/);
  });
});
