import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { HAPROXY_BACKEND } from '../../../bootstrap';
import { REGISTER_TS, ROOT, TOOL_PATH } from '../../support/tools';
import { getItems, isReady, KubeNode, KubePod } from './checks';
import { E2eCluster } from './e2e-cluster';
import { etcdctl, etcdMembersOf, healthyEtcdMembers } from './failover';
import { hostKubeconfig, synthManifests } from './workloads';

const MINUTE = 60_000;

/** Runs `npm run demo:NAME`'s script from the host side of the lab's network, with the host-made kubeconfig. */
async function runDemo(cluster: E2eCluster, spec: object, name: string, env: Record<string, string> = {}): Promise<string> {
  const script = path.join(ROOT, 'scripts', `demo-${name}`);
  const [command, args] = name.endsWith('.ts') ? ['node', ['--require', REGISTER_TS, script]] : ['bash', [`${script}`]];
  const run = await cluster.lab.inNetns(command, args, {
    timeoutMs: 12 * MINUTE,
    cwd: ROOT,
    env: { KUBECONFIG: hostKubeconfig(cluster), DIST_DIR: synthManifests(cluster, spec), PATH: TOOL_PATH, ...env },
  });
  process.stdout.write(`--- demo:${name.replace(/\.(sh|ts)$/, '')} (exit ${run.status})\n${run.stdout}${run.stderr}\n`);
  if (run.status !== 0) throw new Error(`demo:${name} exited ${run.status}:\n${run.stdout}${run.stderr}`);
  return run.stdout;
}

/** The names of the pods the Service `web` selects (not being deleted) and of its endpoints, both sorted. */
async function webEndpointsAndSelected(cluster: E2eCluster): Promise<{ selected: string[]; endpoints: string[] }> {
  const svc = JSON.parse(await cluster.mustKubectl(['get', 'service', 'web', '-o', 'json'])) as { spec: { selector: Record<string, string> } };
  const selector = Object.entries(svc.spec.selector).map(([k, v]) => `${k}=${v}`).join(',');
  const selected = (await getItems<KubePod>(cluster, ['pods', '-l', selector])).filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name).sort();
  const slices = await getItems<{ endpoints?: { targetRef?: { name: string } }[] }>(cluster, ['endpointslices', '-l', 'kubernetes.io/service-name=web']);
  return { selected, endpoints: slices.flatMap((s) => (s.endpoints ?? []).map((e) => e.targetRef?.name ?? '')).sort() };
}

/**
 * The demos of README "Learn", each run for real against the live cluster (after the workloads of dist/ are
 * applied), each followed by the tier's own independent check that what the demo claims holds and that it left
 * the cluster as it found it. Call it inside the describe of {@link describeClusterChecks}.
 */
export function describeDemoChecks(cluster: () => E2eCluster, spec: object): void {
  describe('the demos of README "Learn" run against this cluster, and the tier\'s own checks agree', () => {
    test('npm run demo:controllers exits 0 (its own checks: the pods wait for a scheduler named k8s-lab-demo and run once it binds them) and names a binding; afterwards its namespace and pods are gone, and each lease it shows is held by a control plane', async () => {
      const c = cluster();
      const out = await runDemo(c, spec, 'controllers.sh');
      expect(out).toMatch(/bound \S+ -> \S+/);
      const ns = await c.kubectl(['get', 'namespace', 'k8s-lab-demo-controllers']);
      expect(ns.stderr).toMatch(/NotFound/);
      const left = (await getItems<KubePod & { spec: { schedulerName?: string } }>(c, ['pods', '-A'])).filter((p) => p.spec.schedulerName === 'k8s-lab-demo');
      expect(left.map((p) => p.metadata.name)).toEqual([]);
      // The leases the demo shows: each held by a control plane of this cluster.
      for (const lease of ['kube-scheduler', 'kube-controller-manager']) {
        const holder = (await c.mustKubectl(['get', 'lease', '-n', 'kube-system', lease, '-o', 'jsonpath={.spec.holderIdentity}'])).trim();
        expect(c.plan.controlPlanes.some((cp) => holder.startsWith(`${cp.hostname}_`))).toBe(true);
      }
    });

    test('npm run demo:labels: afterwards web is 5/5 and the Service web\'s endpoints are exactly the pods its labels select, none unlabelled or annotated; the API server itself refuses a change to web\'s selector and accepts one to its pods\' team label', async () => {
      const c = cluster();
      const out = await runDemo(c, spec, 'labels.sh');
      expect(out).toMatch(/left the endpoints after/);
      expect(out).toMatch(/the ReplicaSet had 5 again; it deleted: \S+/);
      expect(out).toMatch(/team=demo-changed on the pods \(team=storefront now\): accepted/);
      expect(out).toMatch(/tier=demo-changed in the selector and on the pods: refused: spec\.selector: .*field is immutable/);
      // The tier's own asking, as server-side dry runs: the selector is what the pods are, fixed; team is free.
      const patch = (body: object) => c.kubectl(['patch', 'deployment', 'web', '--dry-run=server', '--type=merge', '-p', JSON.stringify(body)]);
      const selectorChange = await patch({ spec: { selector: { matchLabels: { app: 'web', tier: 'other' } }, template: { metadata: { labels: { tier: 'other' } } } } });
      expect(selectorChange.status).not.toBe(0);
      expect(selectorChange.stderr).toMatch(/spec\.selector: Invalid value: .*field is immutable/);
      const teamChange = await patch({ spec: { template: { metadata: { labels: { team: 'other' } } } } });
      expect(teamChange.stderr).toBe('');
      expect(teamChange.status).toBe(0);
      const web = JSON.parse(await c.mustKubectl(['get', 'deployment', 'web', '-o', 'json'])) as { spec: { replicas: number }; status: { readyReplicas?: number } };
      expect({ desired: web.spec.replicas, ready: web.status.readyReplicas }).toEqual({ desired: 5, ready: 5 });
      const { selected, endpoints } = await c.waitFor('the endpoints of web equal its selected pods', 2 * MINUTE, async () => {
        const s = await webEndpointsAndSelected(c);
        return s.selected.join() === s.endpoints.join() ? s : undefined;
      });
      expect(endpoints).toEqual(selected);
      expect(selected).toHaveLength(5);
      // No pod of the web group lost its tier label or kept the demo's annotation.
      const group = await getItems<KubePod & { metadata: { annotations?: Record<string, string> } }>(c, ['pods', '-l', 'app=web,team=storefront']);
      expect(group.filter((p) => !p.metadata.deletionTimestamp && (p.metadata.labels?.tier === undefined || p.metadata.annotations?.tier !== undefined)).map((p) => p.metadata.name)).toEqual([]);
    });

    test('npm run demo:api-only: afterwards the tier itself finds web\'s Deployment key in etcd, and no key of the demo\'s namespace is left', async () => {
      const c = cluster();
      const out = await runDemo(c, spec, 'api-only.sh');
      if (c.plan.etcdNodes.length > 0) {
        expect(out).toMatch(/external etcd/);
      } else {
        expect(out).toMatch(/\/registry\/deployments\/k8s-lab-demo-api-only\/demo-api-only/);
      }
      const endpoints = etcdMembersOf(c).map((m) => `https://${m.ip}:2379`);
      const web = await etcdctl(c, ['get', '/registry/deployments/default/web', '--keys-only'], endpoints);
      expect(web.trim()).toBe('/registry/deployments/default/web');
      // Waited for, bounded: it throws, naming what it waited for, if a key of the demo's namespace stays.
      await c.waitFor('the demo namespace\'s keys are gone from etcd', 3 * MINUTE, async () => {
        const keys = (await etcdctl(c, ['get', '/registry/', '--prefix', '--keys-only'], endpoints)).split('\n').filter((k) => k.includes('/k8s-lab-demo-api-only'));
        return keys.length === 0 ? true : undefined;
      });
    });

    test('npm run demo:lose-a-master (NODES=docker): exits 0; afterwards every node is Ready, every etcd member healthy, and HAProxy logged the control plane DOWN and UP again', async () => {
      const c = cluster();
      const specFile = c.file('demo-spec.yaml');
      fs.writeFileSync(specFile, YAML.stringify(spec), { mode: 0o600 });
      // Only HAProxy's lines from this run count (the tier's own failover check stopped the same node before).
      const since = Math.floor(Date.now() / 1000);
      const out = await runDemo(c, spec, 'lose-a-master.ts', { NODES: 'docker', DOCKER_HOST: `unix://${c.lab.socket}`, CLUSTER_CONFIG: specFile });
      const victim = c.plan.controlPlanes[0].hostname;
      expect(out).toMatch(new RegExp(`Shown: with ${victim} gone`));
      const nodes = await getItems<KubeNode>(c, ['nodes']);
      expect(nodes.filter((n) => !isReady(n)).map((n) => n.metadata.name)).toEqual([]);
      const etcd = await healthyEtcdMembers(c);
      expect(etcd.healthy).toHaveLength(etcdMembersOf(c).length);
      // Every load balancer's HAProxy checks the control planes itself. It logs each change twice (a [WARNING]
      // and a plain line): per load balancer, the changes in order, without repeats.
      for (const lb of c.plan.loadBalancers) {
        const journal = (await c.exec(lb, ['journalctl', '-u', 'haproxy', '--no-pager', '--since', `@${since}`])).stdout;
        const changes = journal.split('\n').map((l) => new RegExp(`${HAPROXY_BACKEND}/${victim} is (DOWN|UP)`).exec(l)?.[1]).filter((x): x is string => x !== undefined);
        expect({ lb: lb.hostname, changes: changes.filter((x, i) => i === 0 || x !== changes[i - 1]) }).toEqual({ lb: lb.hostname, changes: ['DOWN', 'UP'] });
      }
      const leftover = await c.kubectl(['get', 'deployment', 'demo-after-losing-a-master']);
      expect(leftover.stderr).toMatch(/NotFound/);
    });
  });
}
