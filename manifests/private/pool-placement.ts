import { k8s } from 'cdk8s-plus-33';
import { ClusterPlan } from '../../spec';
import { describeValue } from './validate-props';

/** Where a pool's pods go: the node labels to select and the node taints to tolerate. */
export interface PoolPlacement {
  /** The labels every node of the pool registers with, as planCluster() gives them. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** One toleration per taint of the pool, so its dedicated nodes admit the pods. */
  readonly tolerations: readonly k8s.Toleration[];
}

/**
 * The placement that keeps pods on the nodes of worker pool `pool`, from the same plan the VMs
 * are built from: a node selector of the labels all the pool's nodes share
 * (`planCluster(spec).workers[].labels`). `field` names the prop in errors.
 * @throws Error when the pool does not exist, has no nodes, has no labels, or its labels also
 * match another pool's nodes (pods could then run there).
 */
export function poolPlacement(field: string, plan: ClusterPlan, pool: string): PoolPlacement {
  const pools = plan.spec.workerPools;
  const index = pools.findIndex((p) => p.name === pool);
  if (index < 0) {
    const names = pools.length > 0 ? pools.map((p) => p.name).join(', ') : 'none: the spec has no workerPools';
    throw new Error(`${field} must name a worker pool of the cluster spec (${names}), got ${describeValue(pool)}`);
  }
  const nodes = plan.workers.filter((w) => w.pool === pool);
  if (nodes.length === 0) {
    throw new Error(`${field}: worker pool ${describeValue(pool)} has no nodes (workerPools[${index}].count is ${pools[index].count}), so its pods could never be scheduled; pick a pool with nodes`);
  }
  // The labels every node of the pool shares (a label only some nodes carry would pin to those).
  const nodeSelector = Object.fromEntries(Object.entries(nodes[0].labels).filter(([k, v]) => nodes.every((n) => n.labels[k] === v)));
  if (Object.keys(nodeSelector).length === 0) {
    throw new Error(`${field}: worker pool ${describeValue(pool)} has no node labels (workerPools[${index}].labels is {}), so its nodes cannot be told apart from other nodes; give the pool labels in the cluster spec`);
  }
  const others = plan.workers.filter((w) => w.pool !== pool && Object.entries(nodeSelector).every(([k, v]) => w.labels[k] === v));
  if (others.length > 0) {
    const otherPools = [...new Set(others.map((w) => w.pool))].join(', ');
    throw new Error(`${field}: the node labels of worker pool ${describeValue(pool)} (${describeValue(nodeSelector)}) also match the nodes of pool(s) ${otherPools}, so its pods could run there; give pool ${describeValue(pool)} a label the others lack`);
  }
  const tolerations = pools[index].taints.map((t): k8s.Toleration => ({ key: t.key, operator: 'Equal', value: t.value, effect: t.effect }));
  return { nodeSelector, tolerations };
}
