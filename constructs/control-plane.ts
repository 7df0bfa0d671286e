import { Construct } from 'constructs';
import { NodePlan } from '../spec';
import { NodeVm } from './node-vm';
import { NodeGroupProps, addNodeVms } from './private/node-group';

/** Props of {@link ControlPlane}. */
export interface ControlPlaneProps extends NodeGroupProps {}

/**
 * The control-plane nodes: the first runs `kubeadm init` against the load balancer's endpoint, the
 * others join as control planes. Each runs an etcd member when etcd is stacked (the default).
 */
export class ControlPlane extends Construct {
  /** The control-plane VMs, in order. */
  readonly nodes: readonly NodeVm[];
  /** The planned nodes, in order. */
  readonly plans: readonly NodePlan[];

  constructor(scope: Construct, id: string, props: ControlPlaneProps) {
    super(scope, id);
    this.plans = props.plan.controlPlanes;
    this.nodes = addNodeVms(this, this.plans, props);
  }
}
