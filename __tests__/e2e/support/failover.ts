import { ChildProcess } from 'child_process';
import {
  etcdctl as etcdctlVia,
  etcdMembersOf as etcdMembersOfPlan,
  FailoverLab,
  FailoverReport,
  healthyEtcdMembers as healthyEtcdMembersVia,
  loseAControlPlane as loseAControlPlaneOf,
} from '../../../host/control-plane-failover';
import { NodePlan } from '../../../spec';
import { E2eCluster } from './e2e-cluster';

// Losing a control plane is implemented once, in host/control-plane-failover.ts, for this tier and
// for `npm run demo:lose-a-master`. Here: how the tier's container nodes are stopped, started and
// reached.

export type { FailoverReport } from '../../../host/control-plane-failover';
export { etcdctlArgs } from '../../../host/control-plane-failover';

/** The failover's view of a cluster of container nodes: `docker stop`/`start` of a node's container, kubectl on a control plane. */
export function containerFailoverLab(cluster: E2eCluster): FailoverLab {
  return {
    plan: cluster.plan,
    stopVerb: 'docker stop',
    kubectl: (args, options = {}) => cluster.kubectl(args, options),
    execOnNode: (node, args, options = {}) => cluster.exec(node, args, options),
    stopNode: async (node) => {
      await cluster.lab.mustDocker(['stop', '--time=20', node.hostname], { timeoutMs: 60_000 });
    },
    startNode: async (node) => {
      await cluster.lab.mustDocker(['start', node.hostname]);
    },
    spawn: (command, args): ChildProcess => cluster.lab.spawnInNetns(command, args),
    mark: (event) => cluster.timeline.mark(event),
    diagnose: () => cluster.diagnose(),
  };
}

/** The etcd members of the cluster: its external etcd nodes, else its control planes (stacked). */
export function etcdMembersOf(cluster: E2eCluster): readonly NodePlan[] {
  return etcdMembersOfPlan(cluster.plan);
}

/**
 * etcdctl ARGS against the cluster's etcd: for stacked etcd in `via`'s etcd pod (kubeadm's health-check
 * client certificate); for external etcd on the first running etcd node, with its member certificate.
 */
export async function etcdctl(cluster: E2eCluster, args: readonly string[], endpoints: readonly string[], via?: NodePlan): Promise<string> {
  return etcdctlVia(containerFailoverLab(cluster), args, endpoints, via ?? (await cluster.runningControlPlane()));
}

/** Which of the cluster's etcd members answer healthy (`via`: the control plane to ask from, stacked). */
export async function healthyEtcdMembers(cluster: E2eCluster, via?: NodePlan): Promise<{ healthy: string[]; unhealthy: string[] }> {
  return healthyEtcdMembersVia(containerFailoverLab(cluster), via ?? (await cluster.runningControlPlane()));
}

/**
 * With a request loop through HAProxy (inside the lab's network) going, stops the first control
 * plane's container, and checks what a user relies on: HAProxy marks it DOWN within the rendered
 * checks' bound, requests after that all succeed, kubectl through `api.<domain>` works, etcd keeps
 * quorum (2 of 3 healthy), a new Deployment schedules and runs. Then starts it again, and waits for
 * its node to be Ready and its etcd member healthy.
 */
export function loseAControlPlane(cluster: E2eCluster, opts: { agnhostImage: string }): Promise<FailoverReport> {
  return loseAControlPlaneOf(containerFailoverLab(cluster), { image: opts.agnhostImage, deployment: 'e2e-after-losing-a-control-plane' });
}
