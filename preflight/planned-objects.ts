import { ClusterPlan, NodePlan, NodeRole } from '../spec';

/**
 * The libvirt objects a deploy of the plan creates, named as the constructs name them
 * (constructs/cluster-network.ts, storage-pool.ts, kubernetes-cluster.ts, node-vm.ts; a unit test
 * keeps the two equal against the synthesized stack).
 */
export interface PlannedObjects {
  readonly network: string;
  readonly pool: { readonly name: string; readonly path: string };
  /** One domain per node, named after its hostname. */
  readonly domains: readonly string[];
  /** The base image volume. */
  readonly baseVolume: string;
  /** Every node's disk, at the size it may grow to (qcow2 grows on write). */
  readonly disks: readonly { readonly name: string; readonly node: string; readonly sizeBytes: number }[];
  /**
   * What starts the name of every volume made for a node (disk, cloud-init ISO): `<hostname>.` and
   * `<hostname>-`. A volume named so, in the cluster's pool, is the cluster's.
   */
  readonly nodeVolumePrefixes: readonly string[];
}

const GIB = 1024 ** 3;

export function plannedObjects(plan: ClusterPlan): PlannedObjects {
  const { spec } = plan;
  return {
    network: `${spec.name}-net`,
    pool: { name: spec.name, path: spec.libvirt.poolPath },
    domains: plan.nodes.map((n) => n.hostname),
    baseVolume: `${spec.name}-base.qcow2`,
    disks: plan.nodes.map((n) => ({ name: `${n.hostname}.qcow2`, node: n.hostname, sizeBytes: n.diskGiB * GIB })),
    nodeVolumePrefixes: plan.nodes.flatMap((n) => [`${n.hostname}.`, `${n.hostname}-`]),
  };
}

/** Space a cloud-init ISO takes, at most (they are a few hundred KiB). */
export const CLOUD_INIT_ISO_BYTES = 1024 ** 2;

/** The spec field a node's size comes from: `controlPlane`, `workerPools[1]`, `loadBalancer`, `etcd`. */
export function roleFieldOf(plan: ClusterPlan, node: NodePlan): string {
  switch (node.role) {
    case NodeRole.CONTROL_PLANE:
      return 'controlPlane';
    case NodeRole.LOAD_BALANCER:
      return 'loadBalancer';
    case NodeRole.ETCD:
      return 'etcd';
    case NodeRole.WORKER:
      return `workerPools[${plan.spec.workerPools.findIndex((p) => p.name === node.pool)}]`;
  }
}
