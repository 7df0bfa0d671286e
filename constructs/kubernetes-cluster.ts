import { Annotations, TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { ClusterSecrets } from '../bootstrap';
import { ClusterPlan, ClusterSpec, planCluster, specWarnings } from '../spec';
import { BaseImage } from './base-image';
import { ClusterNetwork } from './cluster-network';
import { ControlPlane } from './control-plane';
import { EtcdCluster } from './etcd-cluster';
import { LoadBalancer } from './load-balancer';
import { StoragePool } from './storage-pool';
import { WorkerPool } from './worker-pool';

/** Props of {@link KubernetesCluster}. */
export interface KubernetesClusterProps {
  /** The validated cluster spec (spec/load-spec.ts). */
  readonly spec: ClusterSpec;
  /** The cluster's bootstrap secrets (bootstrap/secrets.ts), kept outside git. */
  readonly secrets: ClusterSecrets;
}

/**
 * A whole HA cluster on one libvirt host: the node network, a storage pool with the base image,
 * the load balancer(s), the control plane, the etcd members when etcd is external, and one WorkerPool
 * per spec entry, plus outputs that tell a person how to reach it.
 */
export class KubernetesCluster extends Construct {
  /** Where every node lives, derived from the spec. */
  readonly plan: ClusterPlan;
  /** The NAT network with every node's fixed lease and DNS name. */
  readonly network: ClusterNetwork;
  /** The storage pool every volume lives in. */
  readonly storagePool: StoragePool;
  /** The base image every node's disk is a copy-on-write layer of. */
  readonly baseImage: BaseImage;
  /** The HAProxy VM(s) in front of the API servers. */
  readonly loadBalancer: LoadBalancer;
  /** The control-plane VMs. */
  readonly controlPlane: ControlPlane;
  /** The external etcd members; undefined when etcd is stacked on the control planes. */
  readonly etcd?: EtcdCluster;
  /** One per spec worker pool, by pool name. */
  readonly workerPools: Readonly<Record<string, WorkerPool>>;

  constructor(scope: Construct, id: string, props: KubernetesClusterProps) {
    super(scope, id);
    const { spec, secrets } = props;
    this.plan = planCluster(spec);
    for (const warning of specWarnings(spec)) Annotations.of(this).addWarning(warning);

    this.network = new ClusterNetwork(this, 'Network', { plan: this.plan });
    this.storagePool = new StoragePool(this, 'Storage', { name: spec.name, path: spec.libvirt.poolPath });
    this.baseImage = new BaseImage(this, 'BaseImage', {
      name: `${spec.name}-base.qcow2`,
      poolName: this.storagePool.pool.name,
      source: spec.image.source,
    });

    const group = {
      plan: this.plan,
      secrets,
      storagePoolName: this.storagePool.pool.name,
      baseVolumeId: this.baseImage.volume.id,
      networkId: this.network.network.id,
    };
    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', group);
    // Only for etcd.topology external; a stacked cluster's tree (and its resources' IDs) is unchanged.
    if (this.plan.etcdNodes.length > 0) this.etcd = new EtcdCluster(this, 'Etcd', group);
    this.controlPlane = new ControlPlane(this, 'ControlPlane', group);
    const pools: Record<string, WorkerPool> = {};
    for (const pool of spec.workerPools) {
      // The ID is the pool's name: stable, unique (the spec checks), and chosen by the user.
      pools[pool.name] = new WorkerPool(this, `WorkerPool-${pool.name}`, { ...group, workerPoolName: pool.name });
    }
    this.workerPools = pools;

    this.addOutputs();
  }

  private addOutputs(): void {
    const { plan } = this;
    const firstControlPlane = plan.controlPlanes[0];
    // Each output is named in Terraform exactly as its ID (`terraform output nodes`), not by cdktf's
    // path-and-hash default (`Cluster_nodes_FFC0DFE1`): the names are what the README documents.
    const output = (id: string, config: { description: string; value: unknown }) => new TerraformOutput(this, id, config).overrideLogicalId(id);
    output('nodes', {
      description: 'Every node: hostname => IP address in the node network',
      value: Object.fromEntries(plan.nodes.map((n) => [n.hostname, n.ip])),
    });
    output('api_endpoint', {
      description: 'The Kubernetes API, through the load balancer (resolvable in the node network)',
      value: `https://${plan.apiEndpoint.fqdn}:${plan.apiEndpoint.port}`,
    });
    output('api_endpoint_ip', {
      description: 'The IP behind api_endpoint (add it to /etc/hosts on the libvirt host to use the name)',
      value: plan.apiEndpoint.ip,
    });
    output('ssh_commands', {
      description: 'Ready-to-paste SSH commands (needs a key from ssh.authorizedKeys)',
      value: Object.fromEntries(plan.nodes.map((n) => [n.hostname, `ssh ubuntu@${n.ip}`])),
    });
    output('kubeconfig_command', {
      description:
        'Optional, needs an SSH key: fetches the first control plane\'s own admin.conf over SSH into <its hostname>.kubeconfig (server api_endpoint, by name). Synth already wrote <cluster>.kubeconfig on this host, no SSH needed; this never overwrites it',
      // umask 077 in a subshell: the file is 0600 from its first byte, also when ssh fails half-way. A file of its
      // own: synth's <cluster>.kubeconfig, which the host can use, is left alone.
      value: `(umask 077 && ssh ubuntu@${firstControlPlane.ip} 'cloud-init status --wait >/dev/null; cat .kube/config' > ${firstControlPlane.hostname}.kubeconfig)`,
    });
  }
}
