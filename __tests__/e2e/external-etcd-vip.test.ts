import { describeRequest, startRequestLoop } from '../../host/request-loop';
import { NodePlan } from '../../spec';
import { describeClusterChecks } from './support/cluster-checks';
import { E2eCluster } from './support/e2e-cluster';
import { EXTERNAL_ETCD_VIP_SPEC } from './support/specs';

// The other topology: 3 external etcd members, and two load balancers sharing a virtual IP with
// keepalived. The same checks as the default topology, plus: stopping the VIP holder's container
// moves the VIP, and kubectl through api.<domain> keeps working.

/** The load balancers whose eth0 holds the virtual IP right now. */
async function vipHolders(cluster: E2eCluster): Promise<NodePlan[]> {
  const vip = cluster.plan.apiEndpoint.ip;
  const holders: NodePlan[] = [];
  for (const lb of cluster.plan.loadBalancers) {
    const r = await cluster.exec(lb, ['ip', '-4', '-o', 'addr', 'show'], { timeoutMs: 10_000 });
    if (r.status === 0 && r.stdout.includes(` ${vip}/`)) holders.push(lb);
  }
  return holders;
}

describeClusterChecks('the external-etcd topology forms: 2 HAProxy + keepalived sharing a virtual IP, 3 etcd members, 3 control planes, 2 workers', EXTERNAL_ETCD_VIP_SPEC, 'vip', (get) => {
  test('exactly one load balancer holds the virtual IP, and api.<domain> resolves to it on every node', async () => {
    const cluster = get();
    const holders = await cluster.waitFor('one VIP holder', 60_000, async () => {
      const h = await vipHolders(cluster);
      return h.length === 1 ? h : undefined;
    });
    expect(holders.map((h) => h.hostname)).toEqual([cluster.plan.loadBalancers[0].hostname]);
    for (const node of cluster.plan.nodes) {
      const r = await cluster.exec(node, ['getent', 'hosts', cluster.plan.apiEndpoint.fqdn]);
      expect(r.stdout.trim().split(/\s+/)[0]).toBe(cluster.plan.apiEndpoint.ip);
    }
  });

  test('stopping the VIP holder\'s container moves the VIP to the other load balancer, and kubectl through api keeps working', async () => {
    const cluster = get();
    const holders = await vipHolders(cluster);
    expect(holders).toHaveLength(1);
    const [holder] = holders;
    const other = cluster.plan.loadBalancers.find((lb) => lb.hostname !== holder.hostname)!;
    const api = cluster.plan.apiEndpoint;
    // The failover's request loop (host/request-loop.ts): each request stamped when sent, with 5 s to answer.
    const loop = startRequestLoop((command, args) => cluster.lab.spawnInNetns(command, args), `https://${api.ip}:${api.port}/readyz`, { maxRequests: 600 });
    const samples = loop.samples;
    try {
      await new Promise((r) => setTimeout(r, 3_000));
      await cluster.lab.mustDocker(['stop', '--time=20', holder.hostname], { timeoutMs: 60_000 });
      const stoppedAt = Date.now();
      cluster.timeline.mark(`VIP failover: ${holder.hostname}'s container stopped`);
      const movedAt = await cluster.waitFor(`the VIP moves to ${other.hostname}`, 60_000, async () => ((await vipHolders(cluster)).some((h) => h.hostname === other.hostname) ? Date.now() : undefined), 250);
      cluster.timeline.mark(`VIP failover: ${other.hostname} holds the VIP`);
      const kubectl = await cluster.kubectl(['get', 'nodes']);
      await new Promise((r) => setTimeout(r, 5_000));
      // The window ends here; a request sent before its end reports within its 5 s limit, so wait for those too.
      const windowEnd = Date.now();
      await new Promise((r) => setTimeout(r, 6_000));
      const after = samples.filter((s) => s.at > movedAt + 1_000 && s.at <= windowEnd);
      const failedBefore = samples.filter((s) => s.at >= stoppedAt - 20_000 && s.at <= movedAt + 1_000 && !s.ok).length;
      process.stdout.write(`VIP moved ${((movedAt - stoppedAt) / 1000).toFixed(1)} s after ${holder.hostname} stopped; ${failedBefore} requests failed before, ${after.filter((s) => !s.ok).length} of ${after.length} after\n`);
      expect(kubectl.status).toBe(0);
      expect(after.length).toBeGreaterThan(0);
      expect(after.filter((s) => !s.ok).map((s) => `${describeRequest(s)} at +${((s.at - movedAt) / 1000).toFixed(1)} s`)).toEqual([]);
    } finally {
      loop.stop();
      await cluster.lab.docker(['start', holder.hostname]);
    }
  });
},
  // The demos run on the default topology (above); here the tier's time goes to the VIP's failover.
  { demos: false },
);
