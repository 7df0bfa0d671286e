import { ChildProcess } from 'child_process';
import { DEFAULT_HAPROXY_HEALTH_CHECK, failoverBoundMs, HAPROXY_BACKEND } from '../bootstrap';
import { ETCD_PATHS } from '../bootstrap/private/etcd-paths';
import { ClusterPlan, NodePlan } from '../spec';
import { pollUntil } from './poll-until';
import { describeRequest, startRequestLoop } from './request-loop';

/**
 * Losing a control plane, observed: the one implementation behind the end-to-end tier's failover
 * check (container nodes, `docker stop`) and `npm run demo:lose-a-master` (VMs, `virsh shutdown`;
 * or the same container nodes). What differs between them — how a node is stopped and started, how
 * a command runs on a node, where kubectl runs — is the {@link FailoverLab} the caller passes.
 */

/** What a command printed and how it ended. */
export interface FailoverCommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How the failover reaches one cluster. */
export interface FailoverLab {
  /** The cluster's plan: its control planes, load balancers, etcd members and API endpoint. */
  readonly plan: ClusterPlan;
  /** What stopping a node is here, for the narrative: `docker stop`, `virsh shutdown`. */
  readonly stopVerb: string;
  /**
   * kubectl through `api.<domain>` (the load balancer), as a user's. `via`: a control plane the
   * lab may run it from (the end-to-end tier runs kubectl on a node); a host-side lab ignores it.
   */
  kubectl(args: readonly string[], options?: { timeoutMs?: number; via?: NodePlan }): Promise<FailoverCommandResult>;
  /** A command on a node: the load balancer's journal, etcdctl on an external etcd member. */
  execOnNode(node: NodePlan, args: readonly string[], options?: { timeoutMs?: number }): Promise<FailoverCommandResult>;
  /** Stops the node; resolves once it is gone (its container stopped, its domain shut off). */
  stopNode(node: NodePlan): Promise<void>;
  /** Starts the node again; resolves once it was asked to start (the failover then waits for Ready). */
  startNode(node: NodePlan): Promise<void>;
  /** Starts a long-running process where the API endpoint is reachable (the request loop). */
  spawn(command: string, args: readonly string[]): ChildProcess;
  /** A line of narrative, as the failover goes. @default - silent */
  say?(line: string): void;
  /** A timeline event. @default - none */
  mark?(event: string): void;
  /** What to add to a timeout's error (each node's state). @default - nothing */
  diagnose?(): Promise<string>;
}

/** What losing a control plane showed, with the numbers the README reports. */
export interface FailoverReport {
  readonly stopped: string;
  /**
   * From the stop's beginning to HAProxy's "is DOWN" line. A node stopped gracefully (docker stop, virsh
   * shutdown) stops its API server first, so HAProxy may mark it DOWN before the node is gone.
   */
  readonly detectedDownAfterSeconds: number;
  /** The rendered checks' bound (failoverBoundMs), in seconds. */
  readonly detectionBoundSeconds: number;
  /** The load balancer whose HAProxy logged the DOWN line. */
  readonly detectedBy: string;
  /** Requests sent from 20 s before the stop to the end of the loss (before the node is started again). */
  readonly requests: number;
  readonly failedBeforeDetection: number;
  /** Requests sent after detection (1 s of grace), to the end of the loss: what "none failed after" counts on. */
  readonly requestsAfterDetection: number;
  readonly failedAfterDetection: number;
  /**
   * The request loop still ran at the end of the loss (a request sent in its last 2 s): a loop that died or
   * reached its request limit early leaves the end of the window unmeasured.
   */
  readonly requestsCoveredTheLoss: boolean;
  readonly kubectlThroughApiDuringLoss: boolean;
  readonly etcdHealthyMembersDuringLoss: number;
  /** Members etcd has: stacked etcd loses one with the control plane, external etcd none. */
  readonly etcdMembers: number;
  readonly newDeployment: string;
  readonly newDeploymentReady: boolean;
  /** Seconds from creating the new Deployment to its rollout done. */
  readonly newDeploymentSeconds: number;
  /**
   * Seconds from startNode to its node Ready, every etcd member healthy and HAProxy marking it UP (each is waited
   * for, bounded: one that does not come throws).
   */
  readonly rejoinSeconds: number;
  readonly summary: string;
}

/** Options of {@link loseAControlPlane}. */
export interface LoseAControlPlaneOptions {
  /** The image of the Deployment created while the control plane is gone (must be on the nodes). */
  readonly image: string;
  /** That Deployment's name. @default 'after-losing-a-control-plane' */
  readonly deployment?: string;
  /** Its namespace. @default 'default' */
  readonly namespace?: string;
  /** The control plane to stop. @default - the first planned control plane */
  readonly victim?: NodePlan;
}

/** etcdctl in a stacked etcd pod, with the health-check client certificate kubeadm made. */
export function etcdctlArgs(endpoints: readonly string[]): string[] {
  return [
    'etcdctl',
    `--endpoints=${endpoints.join(',')}`,
    '--cacert=/etc/kubernetes/pki/etcd/ca.crt',
    '--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt',
    '--key=/etc/kubernetes/pki/etcd/healthcheck-client.key',
    '--dial-timeout=3s',
    '--command-timeout=5s',
  ];
}

/** The etcd members of the cluster: its external etcd nodes, else its control planes (stacked). */
export function etcdMembersOf(plan: ClusterPlan): readonly NodePlan[] {
  return plan.etcdNodes.length > 0 ? plan.etcdNodes : plan.controlPlanes;
}

/**
 * etcdctl ARGS against the cluster's etcd: for stacked etcd in `via`'s etcd pod, through the API
 * (`kubectl exec`, kubeadm's health-check client certificate); for external etcd on the first etcd
 * node that answers, with its member certificate.
 */
export async function etcdctl(lab: FailoverLab, args: readonly string[], endpoints: readonly string[], via: NodePlan): Promise<string> {
  if (lab.plan.etcdNodes.length > 0) {
    for (const member of lab.plan.etcdNodes) {
      const r = await lab.execOnNode(member, [
        `${ETCD_PATHS.binDir}/etcdctl`, `--endpoints=${endpoints.join(',')}`, `--cacert=${ETCD_PATHS.caCert}`, `--cert=${ETCD_PATHS.serverCert}`, `--key=${ETCD_PATHS.serverKey}`,
        '--dial-timeout=3s', '--command-timeout=5s', ...args,
      ]);
      if (r.status === 0 || r.stdout.trim().startsWith('[')) return r.stdout;
    }
    throw new Error(`etcdctl ${args.join(' ')}: no etcd node answered`);
  }
  const r = await lab.kubectl(['-n', 'kube-system', 'exec', `etcd-${via.hostname}`, '--', ...etcdctlArgs(endpoints), ...args], { via });
  // `endpoint health` exits non-zero when a member is unhealthy, and still prints every result.
  if (r.status !== 0 && !r.stdout.trim().startsWith('[')) throw new Error(`etcdctl ${args.join(' ')} in etcd-${via.hostname} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Which of the cluster's etcd members answer healthy (`via`: the control plane whose etcd pod asks, stacked). */
export async function healthyEtcdMembers(lab: FailoverLab, via: NodePlan): Promise<{ healthy: string[]; unhealthy: string[] }> {
  const endpoints = etcdMembersOf(lab.plan).map((m) => `https://${m.ip}:2379`);
  const results = JSON.parse((await etcdctl(lab, ['endpoint', 'health', '--write-out=json'], endpoints, via)) || '[]') as { endpoint: string; health: boolean }[];
  return { healthy: results.filter((x) => x.health).map((x) => x.endpoint), unhealthy: results.filter((x) => !x.health).map((x) => x.endpoint) };
}

/**
 * The first line of a load balancer's HAProxy journal (the last 5 minutes) that contains `text` and was logged at
 * or after `sinceMs` (1 s of slack: the journal's clock is the node's): an earlier failover of the same node
 * logged the same words. `at`: the line's own timestamp, in milliseconds.
 */
async function haproxyLogged(lab: FailoverLab, text: string, sinceMs: number): Promise<{ at: number; lb: string; line: string } | undefined> {
  for (const lb of lab.plan.loadBalancers) {
    const j = await lab.execOnNode(lb, ['journalctl', '-u', 'haproxy', '--no-pager', '-o', 'short-unix', '--since', '-5min']);
    const line = j.stdout.split('\n').find((l) => l.includes(text) && parseFloat(l.split(' ')[0]) * 1000 >= sinceMs - 1_000);
    if (line) return { at: Math.round(parseFloat(line.split(' ')[0]) * 1000), lb: lb.hostname, line: line.trim() };
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => Math.round(ms / 100) / 10;

/**
 * Whether the node `name` is Ready *and its kubelet has renewed its node Lease since `sinceMs`*: right after
 * a short outage the Node may still read Ready (the node controller waits its grace period before marking
 * it NotReady), so only a renewal by the restarted kubelet shows that it is back.
 */
async function nodeReadySince(lab: FailoverLab, name: string, via: NodePlan, sinceMs: number): Promise<boolean> {
  const r = await lab.kubectl(['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { via });
  if (r.status !== 0 || r.stdout.trim() !== 'True') return false;
  const lease = await lab.kubectl(['get', 'lease', '-n', 'kube-node-lease', name, '-o', 'jsonpath={.spec.renewTime}'], { via });
  const renewed = Date.parse(lease.stdout.trim());
  // 1 s of slack: renewTime is the API server's clock, sinceMs this host's.
  return lease.status === 0 && Number.isFinite(renewed) && renewed >= sinceMs - 1_000;
}

/**
 * With a request loop through HAProxy going, stops one control plane (the first by default), and
 * checks what a user relies on: HAProxy marks it DOWN within the rendered checks' bound, requests
 * after that all succeed, kubectl through `api.<domain>` works, etcd keeps quorum, a new Deployment
 * schedules and runs. Then starts it again, and waits for its node to be Ready and every etcd
 * member healthy. Whatever happens, the node is started again and the Deployment deleted before
 * this returns or throws. Needs at least two control planes.
 */
export async function loseAControlPlane(lab: FailoverLab, opts: LoseAControlPlaneOptions): Promise<FailoverReport> {
  const plan = lab.plan;
  const victim = opts.victim ?? plan.controlPlanes[0];
  const via = plan.controlPlanes.find((c) => c.hostname !== victim.hostname);
  if (!via) throw new Error(`losing a control plane needs at least 2 of them; ${plan.spec.name} plans ${plan.controlPlanes.length}`);
  const say = lab.say ?? (() => undefined);
  const mark = lab.mark ?? (() => undefined);
  const api = plan.apiEndpoint;
  const deployment = opts.deployment ?? 'after-losing-a-control-plane';
  const ns = opts.namespace ?? 'default';
  const members = etcdMembersOf(plan).length;
  const diagnose = lab.diagnose?.bind(lab);

  say(`A request to https://${api.ip}:${api.port}/readyz through HAProxy every 0.2 s, from now on.`);
  // Bounded: at most 1200 requests, 0.2 s apart, each with curl's 5 s limit; stopped early below.
  const loop = startRequestLoop((command, args) => lab.spawn(command, args), `https://${api.ip}:${api.port}/readyz`);
  const samples = loop.samples;
  let stopped = false;
  let created = false;
  try {
    await sleep(5_000);
    say(`${samples.filter((s) => s.ok).length} of ${samples.length} requests answered 200 so far. Now: ${lab.stopVerb} ${victim.hostname}.`);
    const stopBeganAt = Date.now();
    stopped = true;
    await lab.stopNode(victim);
    const stoppedAt = Date.now();
    say(`${lab.stopVerb} returned after ${seconds(stoppedAt - stopBeganAt)} s (a node shuts down its services in order first).`);
    mark(`failover: ${victim.hostname} stopped`);
    say(`${victim.hostname} is gone. HAProxy's health checks should mark it DOWN within ${failoverBoundMs(DEFAULT_HAPROXY_HEALTH_CHECK) / 1000} s.`);

    const downLine = `${HAPROXY_BACKEND}/${victim.hostname} is DOWN`;
    // Only a line of this stop: an earlier failover of the same node (minutes ago) logged the same words.
    const down = await pollUntil(`HAProxy marks ${victim.hostname} DOWN`, 60_000, () => haproxyLogged(lab, downLine, stopBeganAt), { everyMs: 500, diagnose });
    mark(`failover: HAProxy marked ${victim.hostname} DOWN`);
    say(`HAProxy on ${down.lb} logged, ${seconds(down.at - stopBeganAt)} s after the stop began: ${down.line.replace(/^\S+\s+/, '')}`);

    const kubectlOk = (await lab.kubectl(['get', 'nodes'], { via })).status === 0;
    say(`kubectl get nodes through api.${plan.network.domain}: ${kubectlOk ? 'answered' : 'FAILED'}.`);
    const etcd = await healthyEtcdMembers(lab, via);
    say(`etcd: ${etcd.healthy.length} of ${members} members healthy (quorum needs ${Math.floor(members / 2) + 1})${etcd.unhealthy.length > 0 ? `; not answering: ${etcd.unhealthy.join(', ')}` : ''}.`);

    say(`A new Deployment, ${ns}/${deployment} (2 replicas): the scheduler and controller manager on the remaining control planes must place and run it.`);
    const createdAt = Date.now();
    const create = await lab.kubectl(['create', 'deployment', deployment, '-n', ns, `--image=${opts.image}`, '--replicas=2', '--', '/agnhost', 'serve-hostname', '--http', '--port=8080'], { via });
    if (create.status !== 0) throw new Error(`kubectl create deployment ${deployment} exited ${create.status}: ${create.stderr.trim()}`);
    created = true;
    const rollout = await lab.kubectl(['rollout', 'status', '-n', ns, `deployment/${deployment}`, '--timeout=180s'], { via, timeoutMs: 200_000 });
    const rolledOutAt = Date.now();
    say(`${deployment}: ${rollout.status === 0 ? `2/2 ready ${seconds(rolledOutAt - createdAt)} s after it was created` : 'NOT ready within 180 s'}.`);
    await lab.kubectl(['delete', 'deployment', deployment, '-n', ns, '--wait=false'], { via });
    created = false;
    // Requests until here ran with the control plane gone; let the loop see a few more.
    await sleep(3_000);
    const lossEnd = Date.now();

    say(`Bringing ${victim.hostname} back.`);
    const startedAt = Date.now();
    await lab.startNode(victim);
    stopped = false;
    mark(`failover: ${victim.hostname} started again`);
    await pollUntil(`${victim.hostname} Ready again`, 5 * 60_000, async () => ((await nodeReadySince(lab, victim.hostname, via, startedAt)) ? true : undefined), { everyMs: 3_000, diagnose });
    say(`${victim.hostname} is Ready again (its kubelet renewed its node Lease), ${seconds(Date.now() - startedAt)} s after it was started.`);
    await pollUntil('every etcd member healthy again', 3 * 60_000, async () => {
      const h = await healthyEtcdMembers(lab, via);
      return h.healthy.length === members ? true : undefined;
    }, { everyMs: 3_000, diagnose });
    say(`etcd: all ${members} members healthy again.`);
    const upLine = `${HAPROXY_BACKEND}/${victim.hostname} is UP`;
    const up = await pollUntil(`HAProxy marks ${victim.hostname} UP again`, 3 * 60_000, () => haproxyLogged(lab, upLine, startedAt), { everyMs: 1_000, diagnose });
    const rejoinedAt = Date.now();
    mark(`failover: ${victim.hostname} Ready again, its etcd member healthy, HAProxy sends it requests`);
    say(`HAProxy on ${up.lb}, ${seconds(rejoinedAt - startedAt)} s after the start: ${up.line.replace(/^\S+\s+/, '')}`);

    const during = samples.filter((s) => s.at >= stopBeganAt - 20_000 && s.at <= lossEnd);
    // A request sent just before HAProxy marked the server down may still go to it: 1 s of grace.
    const failedBefore = during.filter((s) => !s.ok && s.at <= down.at + 1_000).length;
    const afterDetection = during.filter((s) => s.at > down.at + 1_000);
    const failedAfterSamples = afterDetection.filter((s) => !s.ok);
    const failedAfter = failedAfterSamples.length;
    // 000: no HTTP answer at all; 5xx: an answer, e.g. an API server's /readyz while etcd elects a leader.
    const codesAfter = failedAfterSamples.map((s) => `${describeRequest(s)} at +${seconds(s.at - down.at)} s`).join(', ');
    const report: Omit<FailoverReport, 'summary'> = {
      stopped: victim.hostname,
      detectedDownAfterSeconds: seconds(down.at - stopBeganAt),
      // The checks' bound counts from the moment the server stops answering, which is during the stop
      // (services shut down in order) and at the latest when the stop returns: its duration is added.
      detectionBoundSeconds: seconds(failoverBoundMs(DEFAULT_HAPROXY_HEALTH_CHECK) + (stoppedAt - stopBeganAt)),
      detectedBy: down.lb,
      requests: during.length,
      failedBeforeDetection: failedBefore,
      requestsAfterDetection: afterDetection.length,
      failedAfterDetection: failedAfter,
      requestsCoveredTheLoss: during.some((s) => s.at >= lossEnd - 2_000),
      kubectlThroughApiDuringLoss: kubectlOk,
      etcdHealthyMembersDuringLoss: etcd.healthy.length,
      etcdMembers: members,
      newDeployment: `${ns}/${deployment}`,
      newDeploymentReady: rollout.status === 0,
      newDeploymentSeconds: seconds(rolledOutAt - createdAt),
      rejoinSeconds: seconds(rejoinedAt - startedAt),
    };
    return {
      ...report,
      summary: [
        `losing ${victim.hostname}: HAProxy marked it DOWN ${report.detectedDownAfterSeconds} s after the stop began (bound ${report.detectionBoundSeconds} s: the checks' ${failoverBoundMs(DEFAULT_HAPROXY_HEALTH_CHECK) / 1000} s plus the stop's ${seconds(stoppedAt - stopBeganAt)} s);`,
        `  ${report.requests} requests to /readyz through HAProxy: ${failedBefore} failed before detection, ${failedAfter} of ${report.requestsAfterDetection} after${failedAfter > 0 ? ` (HTTP ${codesAfter})` : ''}${report.requestsCoveredTheLoss ? '' : '; the requests ended before the loss did'};`,
        `  kubectl through api: ${kubectlOk ? 'ok' : 'FAILED'}; etcd healthy members: ${etcd.healthy.length} of ${members}; new Deployment ${report.newDeploymentReady ? `ready in ${report.newDeploymentSeconds} s` : 'NOT ready'};`,
        `  back: node Ready, its etcd member healthy and HAProxy sending it requests ${report.rejoinSeconds} s after it was started`,
      ].join('\n'),
    };
  } finally {
    loop.stop();
    // Leave the cluster as it was found, also after a failure.
    if (stopped) {
      say(`(cleanup) starting ${victim.hostname} again`);
      await lab.startNode(victim).catch((e: Error) => say(`(cleanup) could not start ${victim.hostname}: ${e.message}`));
    }
    if (created) await lab.kubectl(['delete', 'deployment', deployment, '-n', ns, '--wait=false', '--ignore-not-found'], { via }).catch(() => undefined);
  }
}
