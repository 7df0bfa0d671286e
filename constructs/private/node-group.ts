import { Construct } from 'constructs';
import { ClusterSecrets, renderNodeFiles } from '../../bootstrap';
import { ClusterPlan, NodePlan } from '../../spec';
import { NodeVm } from '../node-vm';

/** What every node of a role construct is built from. */
export interface NodeGroupProps {
  /** The cluster plan the nodes come from. */
  readonly plan: ClusterPlan;
  /** The per-cluster secrets the bootstrap needs. */
  readonly secrets: ClusterSecrets;
  /** The storage pool for disks and NoCloud seeds. */
  readonly storagePoolName: string;
  /** ID of the base image volume. */
  readonly baseVolumeId: string;
  /** ID of the node network. */
  readonly networkId: string;
}

/**
 * One NodeVm per node, with construct ID `Node<n>` (n from 1): IDs follow a node's position,
 * never anything that changes, so growing a group only adds VMs.
 */
export function addNodeVms(scope: Construct, nodes: readonly NodePlan[], props: NodeGroupProps): NodeVm[] {
  return nodes.map((node) => {
    const files = renderNodeFiles(props.plan, node, props.secrets);
    return new NodeVm(scope, `Node${node.index + 1}`, {
      node,
      poolName: props.storagePoolName,
      baseVolumeId: props.baseVolumeId,
      networkId: props.networkId,
      userData: files['user-data'],
      metaData: files['meta-data'],
      domainType: props.plan.spec.libvirt.domainType,
    });
  });
}
