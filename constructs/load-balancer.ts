import { Construct } from 'constructs';
import { NodePlan } from '../spec';
import { NodeVm } from './node-vm';
import { NodeGroupProps, addNodeVms } from './private/node-group';

/** Props of {@link LoadBalancer}. */
export interface LoadBalancerProps extends NodeGroupProps {}

/**
 * The HAProxy VM(s) in front of the API servers: TCP 6443 forwarded round-robin to every
 * control-plane node that passes its /healthz check. The API endpoint's DNS name points here.
 */
export class LoadBalancer extends Construct {
  /** The load-balancer VMs, in order. */
  readonly nodes: readonly NodeVm[];
  /** The planned nodes, in order. */
  readonly plans: readonly NodePlan[];

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    this.plans = props.plan.loadBalancers;
    this.nodes = addNodeVms(this, this.plans, props);
  }
}
