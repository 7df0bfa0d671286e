import { Construct } from 'constructs';
import { NodePlan } from '../spec';
import { NodeVm } from './node-vm';
import { NodeGroupProps, addNodeVms } from './private/node-group';

/** Props of {@link EtcdCluster}. */
export interface EtcdClusterProps extends NodeGroupProps {}

/**
 * The external etcd members (spec.etcd.topology: external), one VM each: every member gets the
 * etcd CA, its own server and peer certificates and the initial cluster of all members through its
 * bootstrap (bootstrap/etcd-member-step.ts). The control planes reach them on 2379 only. (An even
 * etcd.count is warned about by the spec's warnings, which KubernetesCluster annotates.)
 */
export class EtcdCluster extends Construct {
  /** The etcd VMs, in order. */
  readonly nodes: readonly NodeVm[];
  /** The planned members, in order. */
  readonly plans: readonly NodePlan[];

  constructor(scope: Construct, id: string, props: EtcdClusterProps) {
    super(scope, id);
    this.plans = props.plan.etcdNodes;
    if (this.plans.length === 0) {
      throw new Error(`EtcdCluster needs external etcd members: plan.etcdNodes is empty (etcd.topology is ${JSON.stringify(props.plan.spec.etcd.topology)}; external makes etcd.count members)`);
    }
    this.nodes = addNodeVms(this, this.plans, props);
  }
}
