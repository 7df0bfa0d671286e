import { k8s } from 'cdk8s-plus-33';
import { ClusterPlan, POOL_LABEL_KEY } from '../../spec';
import { describeValue } from './validate-props';

/** Where a pool's pods go: the node labels to select and the node taints to tolerate. */
export interface PoolPlacement {
  /** The pool label every node of the pool registers with (`k8s-lab.io/pool=<name>`). */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** One toleration per taint of the pool, so its dedicated nodes admit the pods. */
  readonly tolerations: readonly k8s.Toleration[];
}

/**
 * The placement that keeps pods on the nodes of worker pool `pool`: a node selector of the pool label
 * (`k8s-lab.io/pool=<name>`) that planCluster() gives every worker of the pool, and that its kubelet registers
 * with. Only that label, not the pool's other labels from the spec: a node registers its labels once, when it
 * joins, so a label edited in the spec afterwards would select nodes that do not carry it, and the pods would
 * stay Pending. The pool label cannot change in a node's life (renaming a pool renames its nodes).
 * `field` names the prop in errors.
 * @throws Error when the pool does not exist or has no nodes.
 */
export function poolPlacement(field: string, plan: ClusterPlan, pool: string): PoolPlacement {
  const pools = plan.spec.workerPools;
  const index = pools.findIndex((p) => p.name === pool);
  if (index < 0) {
    const names = pools.length > 0 ? pools.map((p) => p.name).join(', ') : 'none: the spec has no workerPools';
    throw new Error(`${field} must name a worker pool of the cluster spec (${names}), got ${describeValue(pool)}`);
  }
  if (!plan.workers.some((w) => w.pool === pool)) {
    throw new Error(`${field}: worker pool ${describeValue(pool)} has no nodes (workerPools[${index}].count is ${pools[index].count}), so its pods could never be scheduled; pick a pool with nodes`);
  }
  const tolerations = pools[index].taints.map((t): k8s.Toleration => ({ key: t.key, operator: 'Equal', value: t.value, effect: t.effect }));
  return { nodeSelector: { [POOL_LABEL_KEY]: pool }, tolerations };
}
