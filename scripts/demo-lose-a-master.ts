/**
 * `npm run demo:lose-a-master`: a control plane survives losing a master behind the load balancer.
 * With a request loop through `api.<domain>` going, stops one control plane (VMs: `virsh shutdown`;
 * container nodes: `docker stop`), shows HAProxy marking it DOWN, requests still answered, etcd
 * keeping quorum, a new Deployment still scheduled; brings it back and shows it rejoin. The failover
 * itself is host/control-plane-failover.ts, the same code the end-to-end tier runs.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { FailoverCommandResult, FailoverLab, loseAControlPlane } from '../host/control-plane-failover';
import { pollUntil } from '../host/poll-until';
import { findKubectl } from '../host/status-probes';
import { DEFAULT_WORKLOAD_IMAGE } from '../manifests/workload-defaults';
import { ClusterPlan, ClusterSpecError, loadClusterSpec, NodePlan, planCluster } from '../spec';

const ROOT = path.resolve(__dirname, '..');

export const LOSE_A_MASTER_USAGE = `Usage: KUBECONFIG=PATH npm run demo:lose-a-master
Environment:
  KUBECONFIG       the cluster's admin kubeconfig (required)
  CLUSTER_CONFIG   the cluster's spec (default: cluster.yaml, else the default spec): its control planes,
                   load balancers and API endpoint
  NODES            how a node is stopped, started and reached: virsh (default; virsh shutdown/start of the
                   domain, ssh to read HAProxy's journal) or docker (docker stop/start/exec of the node's
                   container; DOCKER_HOST picks the daemon)
  LIBVIRT_URI      with NODES=virsh: the libvirt connection (default: the spec's libvirt.uri)
  SSH_USER         with NODES=virsh: the user ssh logs in as on the load balancer (default: ubuntu)
  IMAGE            the new Deployment's image, already on the nodes (default: the workloads' agnhost)
  KUBECTL          the kubectl to run (default: .tools/bin/kubectl, else kubectl on PATH)
Exit codes: 0 shown; 1 what it shows did not happen, or the cluster did not answer; 2 bad input; 3 a tool missing.`;

/** A demo failure with its exit code. */
class DemoError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const step = (s: string) => process.stdout.write(`\n==> ${s}\n`);
const say = (s: string) => process.stdout.write(`    ${s}\n`);

/** Runs a command to completion (bounded), asynchronously. */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): Promise<FailoverCommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ status: 127, stdout, stderr: `${stderr}${e.message}` });
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Whether a program exists: a path to a file, or a name on PATH. */
const onPath = (tool: string): boolean => (tool.includes('/') ? fs.existsSync(tool) : spawnSync('bash', ['-c', 'command -v "$1"', 'bash', tool]).status === 0);

/** A shell word for ssh's remote command line. */
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

interface Inputs {
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly plan: ClusterPlan;
  readonly nodes: 'virsh' | 'docker';
  readonly libvirtUri: string;
  readonly sshUser: string;
  readonly image: string;
}

/** Reads and checks the environment; throws DemoError (2: bad input, 3: tool missing) before anything is touched. */
export function readInputs(env: NodeJS.ProcessEnv): Inputs {
  const kubeconfig = env.KUBECONFIG ?? '';
  if (kubeconfig === '') throw new DemoError(2, "KUBECONFIG is not set; point it at the cluster's admin kubeconfig, e.g. KUBECONFIG=path/to/admin.kubeconfig npm run demo:lose-a-master");
  if (kubeconfig.includes(':')) throw new DemoError(2, `KUBECONFIG must name one file for this demo, got '${kubeconfig}'`);
  if (!fs.existsSync(kubeconfig) || !fs.statSync(kubeconfig).isFile()) throw new DemoError(2, `KUBECONFIG names '${kubeconfig}', which is not a file`);
  let plan: ClusterPlan;
  try {
    plan = planCluster(loadClusterSpec(env).spec);
  } catch (e) {
    if (e instanceof ClusterSpecError) throw new DemoError(2, e.message);
    throw e;
  }
  const nodes = env.NODES ?? 'virsh';
  if (nodes !== 'virsh' && nodes !== 'docker') throw new DemoError(2, `NODES must be virsh or docker, got '${nodes}'`);
  const tool = nodes === 'virsh' ? 'virsh' : 'docker';
  if (!onPath(tool)) throw new DemoError(3, `'${tool}' is not installed; NODES=${nodes} stops and starts nodes with it`);
  if (nodes === 'virsh' && !onPath('ssh')) throw new DemoError(3, "'ssh' is not installed; NODES=virsh reads HAProxy's journal on the load balancer with it");
  const kubectl = env.KUBECTL ?? findKubectl(ROOT);
  if (kubectl === undefined || !onPath(kubectl)) throw new DemoError(3, `'${kubectl ?? 'kubectl'}' is not installed (or KUBECTL names a missing program); install a kubectl within one minor version of the cluster`);
  const sshUser = env.SSH_USER ?? 'ubuntu';
  if (!/^[a-z_][a-z0-9_-]*$/.test(sshUser)) throw new DemoError(2, `SSH_USER must be a user name, got '${sshUser}'`);
  return { kubeconfig, kubectl, plan, nodes, libvirtUri: env.LIBVIRT_URI ?? plan.spec.libvirt.uri, sshUser, image: env.IMAGE ?? DEFAULT_WORKLOAD_IMAGE };
}

/** The failover's view of the cluster from this host: kubectl with KUBECONFIG, nodes through docker or virsh+ssh. */
function hostLab(i: Inputs, stopped: Set<NodePlan>, children: ChildProcess[]): FailoverLab {
  const kubectlEnv = { ...process.env, KUBECONFIG: i.kubeconfig };
  const virsh = (...args: string[]) => run('virsh', ['-c', i.libvirtUri, ...args]);
  const docker = (...args: string[]) => run('docker', args, process.env, 90_000);
  const must = async (r: Promise<FailoverCommandResult>, what: string) => {
    const x = await r;
    if (x.status !== 0) throw new Error(`${what} exited ${x.status}: ${x.stderr.trim()}`);
  };
  return {
    plan: i.plan,
    stopVerb: i.nodes === 'docker' ? 'docker stop' : 'virsh shutdown',
    kubectl: (args, options = {}) => run(i.kubectl, ['--request-timeout=20s', ...args], kubectlEnv, options.timeoutMs ?? 120_000),
    execOnNode: (node, args, options = {}) =>
      i.nodes === 'docker'
        ? run('docker', ['exec', node.hostname, ...args], process.env, options.timeoutMs ?? 60_000)
        : run('ssh', ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `${i.sshUser}@${node.ip}`, 'sudo', '-n', ...args.map(quote)], process.env, options.timeoutMs ?? 60_000),
    stopNode: async (node) => {
      stopped.add(node);
      if (i.nodes === 'docker') return must(docker('stop', '--time=20', node.hostname), `docker stop ${node.hostname}`);
      await must(virsh('shutdown', node.hostname), `virsh shutdown ${node.hostname}`);
      await pollUntil(`${node.hostname} shut off after virsh shutdown`, 180_000, async () => ((await virsh('domstate', node.hostname)).stdout.trim() === 'shut off' ? true : undefined), { everyMs: 1_000 });
    },
    startNode: async (node) => {
      await must(i.nodes === 'docker' ? docker('start', node.hostname) : virsh('start', node.hostname), `start ${node.hostname}`);
      stopped.delete(node);
    },
    spawn: (command, args) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      return child;
    },
    say,
  };
}

/** Checks, changing nothing, that the cluster answers and is the spec's, and that its nodes can be reached. */
async function preflight(i: Inputs, lab: FailoverLab): Promise<void> {
  const version = await lab.kubectl(['version']);
  process.stdout.write(version.stdout);
  if (version.status !== 0) throw new DemoError(1, `kubectl cannot reach the cluster of KUBECONFIG=${i.kubeconfig}: ${version.stderr.trim()}`);
  const listed = await lab.kubectl(['get', 'nodes', '-l', 'node-role.kubernetes.io/control-plane', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}']);
  if (listed.status !== 0) throw new DemoError(1, `kubectl get nodes failed: ${listed.stderr.trim()}`);
  const inCluster = listed.stdout.split('\n').filter(Boolean).sort();
  const planned = i.plan.controlPlanes.map((c) => c.hostname).sort();
  if (inCluster.join(',') !== planned.join(',')) {
    throw new DemoError(2, `the cluster of KUBECONFIG has control planes [${inCluster.join(', ')}], but the spec (CLUSTER_CONFIG) plans [${planned.join(', ')}]; point both at the same cluster`);
  }
  if (planned.length < 3) throw new DemoError(2, `losing a master needs at least 3 control planes (etcd keeps quorum with 2 of 3); ${i.plan.spec.name} has ${planned.length}`);
  const notReady = (await lab.kubectl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])).stdout
    .split('\n')
    .filter((l) => l !== '' && !l.endsWith('=True'));
  if (notReady.length > 0) throw new DemoError(1, `not every node is Ready (${notReady.join(', ')}); the demo starts from a healthy cluster`);
  for (const lb of i.plan.loadBalancers) {
    const j = await lab.execOnNode(lb, ['journalctl', '-u', 'haproxy', '-n', '1', '--no-pager']);
    if (j.status !== 0) throw new DemoError(2, `cannot read HAProxy's journal on ${lb.hostname} (${i.nodes === 'docker' ? 'docker exec' : `ssh ${i.sshUser}@${lb.ip}`}): ${j.stderr.trim()}`);
  }
}

async function main(): Promise<number> {
  const arg = process.argv[2];
  if (arg === '-h' || arg === '--help') {
    process.stdout.write(`${LOSE_A_MASTER_USAGE}\n`);
    return 0;
  }
  if (arg !== undefined) throw new DemoError(2, `unexpected argument '${arg}' (this demo takes none; it is configured by environment variables; see --help)`);
  const inputs = readInputs(process.env);
  const stopped = new Set<NodePlan>();
  const children: ChildProcess[] = [];
  const lab = hostLab(inputs, stopped, children);
  const deployment = 'demo-after-losing-a-master';

  // Ctrl-C or a kill: the stopped node is started again, the Deployment deleted, the loop ended.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n[demo-lose-a-master] ${signal}: cleaning up\n`);
    void (async () => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
      for (const node of [...stopped]) {
        say(`(cleanup) starting ${node.hostname} again`);
        await lab.startNode(node).catch((e: Error) => say(`(cleanup) could not start ${node.hostname}: ${e.message}`));
      }
      await lab.kubectl(['delete', 'deployment', deployment, '--ignore-not-found', '--wait=false']);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  step('The cluster');
  await preflight(inputs, lab);
  const victim = inputs.plan.controlPlanes[0];
  const lbs = inputs.plan.loadBalancers.map((l) => l.hostname).join(', ');
  say(`control planes: ${inputs.plan.controlPlanes.map((c) => c.hostname).join(', ')}; load balancer(s): ${lbs}; API: ${inputs.plan.apiEndpoint.fqdn} (${inputs.plan.apiEndpoint.ip}:${inputs.plan.apiEndpoint.port})`);

  step(`Lose a master: ${victim.hostname}`);
  say('Kubernetes should: HAProxy notices the dead API server and sends every request to the others; etcd keeps');
  say('quorum with the remaining members; the scheduler and controller manager (leaders elected on the others)');
  say('keep working, so a new Deployment still runs. When the node comes back, it rejoins by itself.');
  const report = await loseAControlPlane(lab, { image: inputs.image, deployment, victim });

  step('What it saw');
  for (const line of report.summary.split('\n')) say(line.trim());
  const stackedLoss = inputs.plan.etcdNodes.length > 0 ? 0 : 1;
  const problems = [
    report.detectedDownAfterSeconds <= report.detectionBoundSeconds ? '' : `HAProxy took ${report.detectedDownAfterSeconds} s to mark it DOWN (bound ${report.detectionBoundSeconds} s)`,
    report.requestsAfterDetection > 0 ? '' : 'no request was sent after HAProxy marked it DOWN',
    report.requestsCoveredTheLoss ? '' : 'the requests ended before the loss did',
    report.failedAfterDetection === 0 ? '' : `${report.failedAfterDetection} requests failed after HAProxy marked it DOWN`,
    report.kubectlThroughApiDuringLoss ? '' : 'kubectl through the API endpoint failed while it was gone',
    report.etcdHealthyMembersDuringLoss === report.etcdMembers - stackedLoss ? '' : `etcd had ${report.etcdHealthyMembersDuringLoss} healthy members, expected ${report.etcdMembers - stackedLoss}`,
    report.newDeploymentReady ? '' : `the new Deployment ${report.newDeployment} did not become ready`,
  ].filter(Boolean);
  if (problems.length > 0) throw new DemoError(1, problems.join('; '));
  step(`Shown: with ${victim.hostname} gone, the API kept answering through HAProxy (no request failed after detection), etcd kept quorum, and a new Deployment ran; ${victim.hostname} rejoined in ${report.rejoinSeconds} s`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`[demo-lose-a-master] error: ${e.message}\n`);
    process.exit(e instanceof DemoError ? e.code : 1);
  },
);
