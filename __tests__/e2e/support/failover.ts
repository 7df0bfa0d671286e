import { DEFAULT_HAPROXY_HEALTH_CHECK, failoverBoundMs, HAPROXY_BACKEND } from '../../../bootstrap';
import { ETCD_PATHS } from '../../../bootstrap/private/etcd-paths';
import { NodePlan } from '../../../spec';
import { getItems, isReady, KubeNode } from './checks';
import { E2eCluster } from './e2e-cluster';

/** What losing a control plane showed, with the numbers the README reports. */
export interface FailoverReport {
  readonly stopped: string;
  /** From the start of `docker stop` to HAProxy's "is DOWN" line. */
  readonly detectedDownAfterSeconds: number;
  /** The rendered checks' bound (failoverBoundMs) plus how long the stop took, in seconds. */
  readonly detectionBoundSeconds: number;
  /** How long `docker stop` took (systemd shutting the node down). */
  readonly stopSeconds: number;
  readonly requests: number;
  readonly failedBeforeDetection: number;
  readonly failedAfterDetection: number;
  readonly kubectlThroughApiDuringLoss: boolean;
  readonly etcdHealthyMembersDuringLoss: number;
  /** Members etcd needs for quorum, and how many it has: stacked etcd loses one with the control plane. */
  readonly etcdMembers: number;
  readonly newDeploymentReady: boolean;
  readonly rejoined: { nodeReady: boolean; etcdMemberHealthy: boolean };
  readonly summary: string;
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
export function etcdMembersOf(cluster: E2eCluster): readonly NodePlan[] {
  return cluster.plan.etcdNodes.length > 0 ? cluster.plan.etcdNodes : cluster.plan.controlPlanes;
}

/**
 * etcdctl ARGS against the cluster's etcd: for stacked etcd in `via`'s etcd pod (kubeadm's health-check
 * client certificate); for external etcd on the first running etcd node, with its member certificate.
 */
export async function etcdctl(cluster: E2eCluster, args: readonly string[], endpoints: readonly string[], via?: NodePlan): Promise<string> {
  if (cluster.plan.etcdNodes.length > 0) {
    for (const member of cluster.plan.etcdNodes) {
      const r = await cluster.exec(member, [
        `${ETCD_PATHS.binDir}/etcdctl`, `--endpoints=${endpoints.join(',')}`, `--cacert=${ETCD_PATHS.caCert}`, `--cert=${ETCD_PATHS.serverCert}`, `--key=${ETCD_PATHS.serverKey}`,
        '--dial-timeout=3s', '--command-timeout=5s', ...args,
      ]);
      if (r.status === 0 || r.stdout.trim().startsWith('[')) return r.stdout;
    }
    throw new Error(`etcdctl ${args.join(' ')}: no etcd node answered`);
  }
  const pod = via ?? (await cluster.runningControlPlane());
  const r = await cluster.kubectl(['-n', 'kube-system', 'exec', `etcd-${pod.hostname}`, '--', ...etcdctlArgs(endpoints), ...args], { via: pod });
  return r.stdout;
}

/** Which of the cluster's etcd members answer healthy (`via`: the control plane to ask from, stacked). */
export async function healthyEtcdMembers(cluster: E2eCluster, via?: NodePlan): Promise<{ healthy: string[]; unhealthy: string[] }> {
  const endpoints = etcdMembersOf(cluster).map((m) => `https://${m.ip}:2379`);
  const results = JSON.parse((await etcdctl(cluster, ['endpoint', 'health', '--write-out=json'], endpoints, via)) || '[]') as { endpoint: string; health: boolean }[];
  return { healthy: results.filter((x) => x.health).map((x) => x.endpoint), unhealthy: results.filter((x) => !x.health).map((x) => x.endpoint) };
}

/**
 * With a request loop through HAProxy (inside the lab's network) going, stops the first control
 * plane's container, and checks what a user relies on: HAProxy marks it DOWN within the rendered
 * checks' bound, requests after that all succeed, kubectl through `api.<domain>` works, etcd keeps
 * quorum (2 of 3 healthy), a new Deployment schedules and runs. Then starts it again, and waits for
 * its node to be Ready and its etcd member healthy.
 */
export async function loseAControlPlane(cluster: E2eCluster, opts: { agnhostImage: string }): Promise<FailoverReport> {
  const [cp1, cp2] = cluster.plan.controlPlanes;
  const lb = cluster.plan.loadBalancers[0];
  const api = cluster.plan.apiEndpoint;
  // Bounded: at most 1200 requests, 0.2 s apart, each with a 2 s limit; stopped early below.
  const loop = cluster.lab.spawnInNetns('bash', [
    '-c',
    'for ((i = 0; i < 1200; i++)); do code=$(curl -sk --max-time 2 -o /dev/null -w "%{http_code}" "$1"); echo "$(date +%s%3N) ${code}"; sleep 0.2; done',
    'request-loop',
    `https://${api.ip}:${api.port}/readyz`,
  ]);
  const samples: { at: number; ok: boolean }[] = [];
  let partial = '';
  loop.stdout?.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^(\d+) (\d+)$/.exec(line.trim());
      if (m) samples.push({ at: Number(m[1]), ok: m[2] === '200' });
    }
  });
  try {
    await new Promise((r) => setTimeout(r, 5_000));
    // The stop begins: systemd in the container shuts down, the API server among the first.
    const stopBegan = Date.now();
    await cluster.lab.mustDocker(['stop', '--time=20', cp1.hostname], { timeoutMs: 60_000 });
    const stoppedAt = Date.now();
    cluster.timeline.mark(`failover: ${cp1.hostname}'s container stopped (docker stop took ${((stoppedAt - stopBegan) / 1000).toFixed(1)} s)`);

    // HAProxy also logged cp-1 DOWN while the cluster was forming: only a line after the stop began counts.
    const downLine = `${HAPROXY_BACKEND}/${cp1.hostname} is DOWN`;
    const downAt = await cluster.waitFor(`HAProxy on ${lb.hostname} marks ${cp1.hostname} DOWN`, 60_000, async () => {
      const j = await cluster.exec(lb, ['journalctl', '-u', 'haproxy', '--no-pager', '-o', 'short-unix', `--since=@${Math.floor(stopBegan / 1000)}`]);
      const at = j.stdout.split('\n').filter((l) => l.includes(downLine)).map((l) => Math.round(parseFloat(l.split(' ')[0]) * 1000)).find((t) => t >= stopBegan);
      return at;
    }, 500);
    cluster.timeline.mark(`failover: HAProxy marked ${cp1.hostname} DOWN`);

    const kubectlOk = (await cluster.kubectl(['get', 'nodes'], { via: cp2 })).status === 0;
    const etcd = await healthyEtcdMembers(cluster, cp2);
    const deployment = 'e2e-after-losing-a-control-plane';
    await cluster.mustKubectl(['create', 'deployment', deployment, `--image=${opts.agnhostImage}`, '--replicas=2', '--', '/agnhost', 'serve-hostname', '--http', '--port=8080'], { via: cp2 });
    const rollout = await cluster.kubectl(['rollout', 'status', `deployment/${deployment}`, '--timeout=180s'], { via: cp2, timeoutMs: 200_000 });
    await cluster.kubectl(['delete', 'deployment', deployment, '--wait=false'], { via: cp2 });
    // Requests until here ran with cp-1 gone; let the loop see a few more, then stop it.
    await new Promise((r) => setTimeout(r, 3_000));
    const lossEnd = Date.now();

    await cluster.lab.mustDocker(['start', cp1.hostname]);
    cluster.timeline.mark(`failover: ${cp1.hostname}'s container started again`);
    const nodeReady = await cluster.waitFor(`${cp1.hostname} Ready again`, 5 * 60_000, async () => {
      const n = (await getItems<KubeNode>(cluster, ['nodes'], cp2)).find((x) => x.metadata.name === cp1.hostname);
      return n && isReady(n) ? true : undefined;
    }, 3_000);
    const etcdBack = await cluster.waitFor(`every etcd member healthy again`, 5 * 60_000, async () => {
      const h = await healthyEtcdMembers(cluster, cp2);
      if (h.healthy.length !== etcdMembersOf(cluster).length) {
        const pod = await cluster.kubectl(['-n', 'kube-system', 'get', 'pod', `etcd-${cp1.hostname}`, '-o', 'wide'], { via: cp2 });
        throw new Error(`healthy: ${h.healthy.join(', ') || 'none'}; unhealthy: ${h.unhealthy.join(', ') || 'none'}; ${pod.stdout}${pod.stderr}`);
      }
      return true;
    }, 3_000);
    cluster.timeline.mark(`failover: ${cp1.hostname} Ready again with its etcd member healthy`);

    const during = samples.filter((s) => s.at >= stopBegan && s.at <= lossEnd);
    // A request already in flight when HAProxy marked the server down may still fail: 1 s of grace.
    const failedBefore = during.filter((s) => !s.ok && s.at <= downAt + 1_000).length;
    const failedAfter = during.filter((s) => !s.ok && s.at > downAt + 1_000).length;
    const report: FailoverReport = {
      stopped: cp1.hostname,
      detectedDownAfterSeconds: Math.round((downAt - stopBegan) / 100) / 10,
      // The checks' bound counts from the moment the server stops answering, which is at the latest when
      // docker stop returns: the stop's own duration is added.
      detectionBoundSeconds: Math.round((failoverBoundMs(DEFAULT_HAPROXY_HEALTH_CHECK) + (stoppedAt - stopBegan)) / 100) / 10,
      stopSeconds: Math.round((stoppedAt - stopBegan) / 100) / 10,
      requests: during.length,
      failedBeforeDetection: failedBefore,
      failedAfterDetection: failedAfter,
      kubectlThroughApiDuringLoss: kubectlOk,
      etcdHealthyMembersDuringLoss: etcd.healthy.length,
      etcdMembers: etcdMembersOf(cluster).length,
      newDeploymentReady: rollout.status === 0,
      rejoined: { nodeReady, etcdMemberHealthy: etcdBack },
      summary: '',
    };
    return {
      ...report,
      summary: [
        `losing ${cp1.hostname}: HAProxy marked it DOWN ${report.detectedDownAfterSeconds} s after its container began to stop (the stop took ${report.stopSeconds} s; bound ${report.detectionBoundSeconds} s);`,
        `  ${report.requests} requests to /readyz through HAProxy: ${failedBefore} failed before detection, ${failedAfter} after;`,
        `  kubectl through api: ${kubectlOk ? 'ok' : 'FAILED'}; etcd healthy members: ${etcd.healthy.length} of ${etcdMembersOf(cluster).length}; new Deployment ${report.newDeploymentReady ? 'ready' : 'NOT ready'};`,
        `  back: node Ready ${nodeReady}, etcd member healthy ${etcdBack}`,
      ].join('\n'),
    };
  } finally {
    if (loop.exitCode === null) loop.kill('SIGTERM');
  }
}
