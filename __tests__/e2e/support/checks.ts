import { NodePlan, NodeRole, POOL_LABEL_KEY } from '../../../spec';
import { E2eCluster } from './e2e-cluster';

/** The fields of `kubectl get … -o json` the checks read. */
export interface KubeNode {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { taints?: { key: string; value?: string; effect: string }[] };
  status: { conditions?: { type: string; status: string }[] };
}
export interface KubePod {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

export const isReady = (o: { status: { conditions?: { type: string; status: string }[] } }): boolean =>
  (o.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** `kubectl get KIND -o json` items. */
export async function getItems<T>(cluster: E2eCluster, args: readonly string[], via?: NodePlan): Promise<T[]> {
  return (JSON.parse(await cluster.mustKubectl(['get', ...args, '-o', 'json'], { via })) as { items: T[] }).items;
}

/**
 * Waits until every planned Kubernetes node is registered and Ready, marking each one's first
 * Ready on the timeline; returns the nodes.
 */
export async function waitForAllNodesReady(cluster: E2eCluster, timeoutMs: number): Promise<KubeNode[]> {
  const planned = cluster.plan.nodes.filter((n) => n.role === NodeRole.CONTROL_PLANE || n.role === NodeRole.WORKER).map((n) => n.hostname);
  const seen = new Set<string>();
  await cluster.waitFor('the API answers /readyz through the load balancer', timeoutMs, async () => {
    const r = await cluster.kubectl(['get', '--raw=/readyz']);
    return r.status === 0 && r.stdout.trim() === 'ok' ? true : undefined;
  });
  cluster.timeline.mark('first API answer through the load balancer (/readyz ok)');
  return cluster.waitFor(`all ${planned.length} nodes Ready`, timeoutMs, async () => {
    const nodes = await getItems<KubeNode>(cluster, ['nodes']);
    for (const n of nodes) {
      if (isReady(n) && !seen.has(n.metadata.name)) {
        seen.add(n.metadata.name);
        cluster.timeline.mark(`node ${n.metadata.name} Ready`);
      }
    }
    const ready = planned.filter((h) => nodes.some((n) => n.metadata.name === h && isReady(n)));
    if (ready.length !== planned.length) throw new Error(`Ready: ${ready.join(', ') || 'none'}; registered: ${nodes.map((n) => n.metadata.name).join(', ') || 'none'}`);
    return nodes;
  });
}

/** The labels and taints a worker must carry: its pool label, and the spec's pool labels and taints. */
export function expectedWorkerMetadata(worker: NodePlan): { labels: Record<string, string>; taints: { key: string; value?: string; effect: string }[] } {
  return { labels: { ...worker.labels, [POOL_LABEL_KEY]: worker.pool! }, taints: worker.taints.map((t) => ({ key: t.key, ...(t.value !== undefined ? { value: t.value } : {}), effect: t.effect })) };
}
