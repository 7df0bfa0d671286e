import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { plannedObjects } from '../preflight/planned-objects';
import { ClusterPlan } from '../spec';
import { ApiObservation, LibvirtObservation, parseDhcpLeases, parseDomainNames, parseDomState, parseEtcdPods, parseNodeList, parseReadyz } from './cluster-status';

/**
 * `npm run status`, its probes: what the host can ask, each call bounded. libvirt through `virsh -c
 * <spec's libvirt.uri>`; the API through the kubeconfig with kubectl (the pinned one in .tools/bin
 * when `npm run tools` built it, else kubectl on PATH). Read-only: nothing here changes anything.
 */

/** How long one virsh or kubectl call may take. */
const CALL_TIMEOUT_MS = 15_000;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly missing: boolean;
}

function run(command: string, args: readonly string[]): Run {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: CALL_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  const missing = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return { status: r.status, stdout: r.stdout ?? '', stderr: timedOut ? `no answer within ${CALL_TIMEOUT_MS / 1000} s` : (r.stderr ?? ''), missing };
}

/** The first line of a tool's error output that says something (virsh and kubectl put it first). */
function firstError(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return (lines.find((l) => !/^error: failed to connect to the hypervisor$/.test(l)) ?? lines[0] ?? 'no output').replace(/^error: /, '');
}

/** Asks libvirt for every planned domain's state and the network's leases. */
export function probeLibvirt(plan: ClusterPlan, virsh = 'virsh'): LibvirtObservation {
  const uri = plan.spec.libvirt.uri;
  const list = run(virsh, ['-c', uri, 'list', '--all', '--name']);
  if (list.missing) return { kind: 'unreachable', uri, error: "virsh is not installed (apt-get install libvirt-clients, or npm run tools)" };
  if (list.status !== 0) return { kind: 'unreachable', uri, error: firstError(list.stderr) };
  const existing = new Set(parseDomainNames(list.stdout));
  const domainStates: Record<string, string> = {};
  for (const node of plan.nodes) {
    if (!existing.has(node.hostname)) continue;
    const state = run(virsh, ['-c', uri, 'domstate', node.hostname]);
    domainStates[node.hostname] = state.status === 0 ? parseDomState(state.stdout) : `unknown (${firstError(state.stderr)})`;
  }
  const leases = run(virsh, ['-c', uri, 'net-dhcp-leases', plannedObjects(plan).network]);
  return { kind: 'answered', uri, domainStates, ...(leases.status === 0 ? { leases: parseDhcpLeases(leases.stdout) } : {}) };
}

/** The kubectl to use: the project's pinned one, else the first on PATH; undefined when there is none. */
export function findKubectl(root: string): string | undefined {
  const pinned = path.join(root, '.tools', 'bin', 'kubectl');
  if (fs.existsSync(pinned)) return pinned;
  const onPath = spawnSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  return onPath.status === 0 ? onPath.stdout.trim() : undefined;
}

/** Asks the API, through the kubeconfig's server (the load balancer), for /readyz, the Nodes and the etcd pods. */
export function probeApi(plan: ClusterPlan, kubeconfig: string, kubectl: string | undefined): ApiObservation {
  if (!fs.existsSync(kubeconfig)) return { kind: 'no-kubeconfig', path: kubeconfig };
  if (kubectl === undefined) return { kind: 'no-kubectl' };
  const k = (...args: string[]) => run(kubectl, ['--kubeconfig', kubeconfig, '--request-timeout', '10s', ...args]);
  const serverRun = k('config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}');
  const server = serverRun.status === 0 && serverRun.stdout.trim() !== '' ? serverRun.stdout.trim() : kubeconfig;
  const readyz = k('get', '--raw', '/readyz?verbose');
  const body = `${readyz.stdout}\n${readyz.stderr}`;
  // A failing /readyz answers 500 with the same check list: kubectl exits 1 but the body is there.
  if (readyz.status !== 0 && !/\[[+-]\]/.test(body)) return { kind: 'unreachable', server, error: firstError(readyz.stderr) };
  const nodes = k('get', 'nodes', '-o', 'json');
  const etcd = plan.etcdNodes.length > 0 ? undefined : k('get', 'pods', '-n', 'kube-system', '-l', 'component=etcd', '-o', 'json');
  return {
    kind: 'answered',
    server,
    readyz: parseReadyz(body),
    ...(nodes.status === 0 ? { nodes: parseNodeList(nodes.stdout) } : { nodesError: firstError(nodes.stderr) }),
    ...(etcd === undefined ? {} : etcd.status === 0 ? { etcdPods: parseEtcdPods(etcd.stdout) } : { etcdPodsError: firstError(etcd.stderr) }),
  };
}
