import { Construct } from 'constructs';
import { NodePlan } from '../spec';
import { NodeVm } from './node-vm';
import { NodeGroupProps, addNodeVms } from './private/node-group';

/** Props of {@link WorkerPool}. */
export interface WorkerPoolProps extends NodeGroupProps {
  /** The pool's name, as in the spec's `workerPools[].name`. */
  readonly workerPoolName: string;
}

/**
 * The workers of one pool. Each carries the pool's labels and taints (and
 * `k8s-lab.io/pool=<name>`) into its node registration through the bootstrap.
 */
export class WorkerPool extends Construct {
  /** The pool's VMs, in order. */
  readonly nodes: readonly NodeVm[];
  /** The planned nodes, in order. */
  readonly plans: readonly NodePlan[];

  constructor(scope: Construct, id: string, props: WorkerPoolProps) {
    super(scope, id);
    this.plans = props.plan.workers.filter((w) => w.pool === props.workerPoolName);
    if (!props.plan.spec.workerPools.some((p) => p.name === props.workerPoolName)) {
      throw new Error(`workerPoolName must name one of workerPools[].name (${props.plan.spec.workerPools.map((p) => p.name).join(', ')}), got ${JSON.stringify(props.workerPoolName)}`);
    }
    this.nodes = addNodeVms(this, this.plans, props);
  }
}
