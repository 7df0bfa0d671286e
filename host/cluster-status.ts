import { plannedObjects } from '../preflight/planned-objects';
import { ClusterPlan, NodePlan, NodeRole, POOL_LABEL_KEY } from '../spec';

/**
 * `npm run status`, its decision logic: pure functions from what the host could ask (virsh, the API
 * through the kubeconfig) to one screen that says, per planned node, its domain state, DHCP lease and
 * Kubernetes Node status, then the API's /readyz through the load balancer and the etcd members; and
 * what is missing, with what to do. The probes that gather the answers live in status-probes.ts.
 */

/** What libvirt said about the cluster, or why it could not be asked. */
export type LibvirtObservation =
  | { readonly kind: 'skipped' }
  | { readonly kind: 'unreachable'; readonly uri: string; readonly error: string }
  | {
      readonly kind: 'answered';
      readonly uri: string;
      /** `virsh domstate` of every planned domain that exists, by name; absent names do not exist. */
      readonly domainStates: Readonly<Record<string, string>>;
      /** The network's DHCP leases; undefined when the network does not exist. */
      readonly leases?: readonly DhcpLease[];
    };

/** One row of `virsh net-dhcp-leases`. */
export interface DhcpLease {
  readonly mac: string;
  /** The address without its prefix length. */
  readonly ip: string;
  readonly hostname: string;
}

/** What the API said, or why it could not be asked. */
export type ApiObservation =
  | { readonly kind: 'no-kubeconfig'; readonly path: string }
  | { readonly kind: 'no-kubectl' }
  | { readonly kind: 'unreachable'; readonly server: string; readonly error: string }
  | {
      readonly kind: 'answered';
      readonly server: string;
      /** `/readyz?verbose`, parsed. */
      readonly readyz: Readyz;
      /** `kubectl get nodes -o json`, parsed; undefined when that call failed (error in nodesError). */
      readonly nodes?: readonly KubeNode[];
      readonly nodesError?: string;
      /** Stacked etcd: the etcd static pods, parsed; undefined for external etcd or when the call failed. */
      readonly etcdPods?: readonly EtcdPod[];
      readonly etcdPodsError?: string;
    };

/** `/readyz?verbose`: whether it passed, and the checks that failed. */
export interface Readyz {
  readonly ok: boolean;
  /** Every check by name: true when `[+]… ok`. */
  readonly checks: Readonly<Record<string, boolean>>;
}

/** A Kubernetes Node as status needs it. */
export interface KubeNode {
  readonly name: string;
  readonly ready: boolean;
  /** From `node-role.kubernetes.io/<role>` labels, sorted. */
  readonly roles: readonly string[];
  /** The `k8s-lab.io/pool` label, when set. */
  readonly pool?: string;
}

/** An etcd static pod (stacked etcd) as status needs it. */
export interface EtcdPod {
  readonly nodeName: string;
  readonly ready: boolean;
}

/** Everything status observed. */
export interface Observations {
  readonly libvirt: LibvirtObservation;
  readonly api: ApiObservation;
}

/** The screen and the verdict. */
export interface StatusReport {
  readonly ready: boolean;
  /** The table and summary lines, in print order. */
  readonly lines: readonly string[];
  /** What is missing, each with what to do; empty when ready. */
  readonly problems: readonly string[];
}

// --- parsers of the tools' real output (captures in __tests__/fixtures/status/) ---

/** `virsh list --all --name`: one domain name per line, blank lines ignored. */
export function parseDomainNames(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** `virsh domstate NAME`: the state's first line, e.g. `running`, `shut off`, `paused`. */
export function parseDomState(stdout: string): string {
  return stdout.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? 'unknown';
}

/**
 * `virsh net-dhcp-leases NET`: the table after the dashed line; each row `date time MAC proto
 * IP/prefix hostname [client-id]`. A lease without a hostname prints `-`.
 */
export function parseDhcpLeases(stdout: string): DhcpLease[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => /^-{10,}/.test(l.trim()));
  if (start < 0) return [];
  return lines
    .slice(start + 1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 6 && /^[0-9a-f:]{17}$/i.test(f[2]))
    .map((f) => ({ mac: f[2].toLowerCase(), ip: f[4].split('/')[0], hostname: f[5] }));
}

/**
 * `/readyz?verbose` as kubectl prints it: `[+]name ok` / `[-]name failed: …` lines and `readyz
 * check passed` on stdout, or, when it failed (HTTP 500), the same body inside kubectl's error line.
 */
export function parseReadyz(body: string): Readyz {
  const checks: Record<string, boolean> = {};
  // kubectl prints a failing (500) body inside its error line, with the newlines escaped as \n.
  for (const line of body.replace(/\\n/g, '\n').split('\n')) {
    const m = /\[([+-])\]([^\s"]+)\s/.exec(`${line} `);
    if (m) checks[m[2]] = m[1] === '+';
  }
  return { ok: /readyz check passed/.test(body) && Object.values(checks).every((v) => v), checks };
}

interface NodeListJson {
  readonly items?: readonly { metadata?: { name?: string; labels?: Record<string, string> }; status?: { conditions?: readonly { type?: string; status?: string }[] } }[];
}

/** `kubectl get nodes -o json` (a v1 NodeList). */
export function parseNodeList(json: string): KubeNode[] {
  const list = JSON.parse(json) as NodeListJson;
  return (list.items ?? []).map((item) => {
    const labels = item.metadata?.labels ?? {};
    const roles = Object.keys(labels)
      .filter((k) => k.startsWith('node-role.kubernetes.io/'))
      .map((k) => k.slice('node-role.kubernetes.io/'.length))
      .sort();
    return {
      name: item.metadata?.name ?? '',
      ready: (item.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
      roles,
      ...(labels[POOL_LABEL_KEY] !== undefined ? { pool: labels[POOL_LABEL_KEY] } : {}),
    };
  });
}

interface PodListJson {
  readonly items?: readonly { spec?: { nodeName?: string }; status?: { conditions?: readonly { type?: string; status?: string }[] } }[];
}

/** `kubectl get pods -n kube-system -l component=etcd -o json` (a v1 PodList). */
export function parseEtcdPods(json: string): EtcdPod[] {
  const list = JSON.parse(json) as PodListJson;
  return (list.items ?? []).map((p) => ({
    nodeName: p.spec?.nodeName ?? '',
    ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
  }));
}

// --- the decision ---

const isKubeNode = (n: NodePlan) => n.role === NodeRole.CONTROL_PLANE || n.role === NodeRole.WORKER;
const roleOf = (n: NodePlan) => (n.role === NodeRole.WORKER ? `worker/${n.pool}` : n.role);

/** The table, the summary and every problem with what to do, for `plan` and what was observed. */
export function clusterReport(plan: ClusterPlan, obs: Observations): StatusReport {
  const problems: string[] = [];
  const uri = plan.spec.libvirt.uri;
  // The name the stack gives its network (the preflight's planned names, which a unit test ties to the stack's).
  const network = plannedObjects(plan).network;
  const { libvirt, api } = obs;

  if (libvirt.kind === 'unreachable') {
    problems.push(`libvirt at ${libvirt.uri} does not answer (${libvirt.error}): start libvirtd (bash scripts/libvirtd.sh), check the spec's libvirt.uri, or pass --no-libvirt to report the API only`);
  } else if (libvirt.kind === 'answered' && libvirt.leases === undefined) {
    problems.push(`the network ${network} does not exist at ${uri}: run npm run deploy`);
  }

  // Nothing deployed: one line says so, instead of one per node.
  const noneDeployed = libvirt.kind === 'answered' && plan.nodes.every((n) => libvirt.domainStates[n.hostname] === undefined);
  if (noneDeployed) problems.push(`none of the ${plan.nodes.length} planned domains exists at ${uri}: the cluster is not deployed; run npm run deploy`);

  const apiNodes = api.kind === 'answered' && api.nodes ? new Map(api.nodes.map((n) => [n.name, n])) : undefined;
  const rows: string[][] = [['NODE', 'ROLE', 'IP', 'DOMAIN', 'LEASE', 'KUBERNETES']];
  for (const node of plan.nodes) {
    let domain = '(skipped)';
    let lease = '(skipped)';
    if (libvirt.kind === 'unreachable') [domain, lease] = ['?', '?'];
    if (libvirt.kind === 'answered') {
      const state = libvirt.domainStates[node.hostname];
      domain = state ?? 'absent';
      if (state === undefined) {
        if (!noneDeployed) problems.push(`${node.hostname}: its domain does not exist: run npm run deploy`);
      } else if (state !== 'running') problems.push(`${node.hostname}: its domain is ${state}: start it with virsh -c ${uri} start ${node.hostname}`);
      const held = (libvirt.leases ?? []).find((l) => l.mac === node.mac.toLowerCase());
      lease = held ? held.ip : 'none';
      if (held && held.ip !== node.ip) problems.push(`${node.hostname}: holds ${held.ip} but the plan pins ${node.ip} to its MAC ${node.mac}: check the network's DHCP host entries (npm run diff)`);
      else if (!held && state === 'running') problems.push(`${node.hostname}: no DHCP lease yet: it is still booting; wait, or look at its console (virsh -c ${uri} console ${node.hostname})`);
    }
    let k8s = '-';
    if (isKubeNode(node)) {
      const seen = apiNodes?.get(node.hostname);
      if (apiNodes === undefined) k8s = '?';
      else if (!seen) {
        k8s = 'not registered';
        problems.push(`${node.hostname}: not a Node of the cluster yet: its kubeadm ${node.role === NodeRole.CONTROL_PLANE && node.index === 0 ? 'init' : 'join'} has not finished (see bootstrap/README.md for its logs)`);
      } else {
        const wantRole = node.role === NodeRole.CONTROL_PLANE ? 'control-plane' : undefined;
        k8s = `${seen.ready ? 'Ready' : 'NotReady'}${seen.roles.length > 0 ? ` ${seen.roles.join(',')}` : ''}${seen.pool !== undefined ? ` pool=${seen.pool}` : ''}`;
        if (!seen.ready) problems.push(`${node.hostname}: registered but not Ready (kubelet or CNI still starting: kubectl describe node ${node.hostname})`);
        if (wantRole && !seen.roles.includes(wantRole)) problems.push(`${node.hostname}: lacks the role ${wantRole}`);
        if (node.role === NodeRole.WORKER && seen.pool !== node.pool) problems.push(`${node.hostname}: its ${POOL_LABEL_KEY} label is ${seen.pool ?? 'missing'}, the plan says ${node.pool}`);
      }
    }
    rows.push([node.hostname, roleOf(node), node.ip, domain, lease, k8s]);
  }
  if (apiNodes) {
    const planned = new Set(plan.nodes.map((n) => n.hostname));
    for (const name of apiNodes.keys()) if (!planned.has(name)) problems.push(`${name}: a Node the spec does not plan (removed from the spec? kubectl delete node ${name})`);
  }

  const lines = table(rows);
  const server = `https://${plan.apiEndpoint.ip}:${plan.apiEndpoint.port}`;
  switch (api.kind) {
    case 'no-kubeconfig':
      lines.push(`API   ${server}: not asked, no kubeconfig at ${api.path}`);
      problems.push(`no kubeconfig at ${api.path}: run npm run synth (it writes <cluster>.kubeconfig), or pass --kubeconfig PATH`);
      break;
    case 'no-kubectl':
      lines.push(`API   ${server}: not asked, no kubectl`);
      problems.push('no kubectl: run npm run tools (it builds the pinned kubectl into .tools/bin), or put a kubectl within one minor of the cluster on PATH');
      break;
    case 'unreachable':
      lines.push(`API   ${api.server}/readyz: no answer (${api.error})`);
      problems.push(`the API at ${api.server} does not answer through the load balancer: the first control plane's bootstrap takes minutes after deploy; if it stays so, see its logs (bootstrap/README.md)`);
      break;
    case 'answered': {
      const failed = Object.entries(api.readyz.checks).filter(([, ok]) => !ok).map(([name]) => name);
      lines.push(`API   ${api.server}/readyz: ${api.readyz.ok ? 'ok' : `not ready${failed.length > 0 ? ` (failing: ${failed.join(', ')})` : ''}`}`);
      if (!api.readyz.ok) problems.push(`the API answers but is not ready${failed.length > 0 ? `: ${failed.join(', ')} failing` : ''} (kubectl get --raw '/readyz?verbose')`);
      if (api.nodesError !== undefined) problems.push(`listing Nodes failed: ${api.nodesError}`);
      break;
    }
  }
  lines.push(etcdLine(plan, api, problems));
  return { ready: problems.length === 0, lines, problems };
}

/** The etcd summary: stacked, its static pods per control plane; external, the API's etcd check. */
function etcdLine(plan: ClusterPlan, api: ApiObservation, problems: string[]): string {
  if (api.kind !== 'answered') return 'etcd  not asked (no answer from the API)';
  if (plan.etcdNodes.length > 0) {
    const ok = api.readyz.checks.etcd;
    if (ok !== true) problems.push('the API cannot reach its external etcd (readyz etcd check): see the etcd VMs\' logs (bootstrap/README.md)');
    return `etcd  external, ${plan.etcdNodes.length} member(s) planned; the API's etcd check: ${ok === undefined ? 'absent' : ok ? 'ok' : 'failing'}`;
  }
  if (api.etcdPods === undefined) {
    problems.push(`listing the etcd pods failed: ${api.etcdPodsError ?? 'no answer'}`);
    return 'etcd  stacked: unknown';
  }
  const pods = new Map(api.etcdPods.map((p) => [p.nodeName, p.ready]));
  const ready = plan.controlPlanes.filter((cp) => pods.get(cp.hostname) === true);
  for (const cp of plan.controlPlanes) if (pods.get(cp.hostname) !== true) problems.push(`etcd on ${cp.hostname}: ${pods.has(cp.hostname) ? 'its pod is not Ready' : 'no member pod yet'}`);
  return `etcd  stacked: ${ready.length}/${plan.controlPlanes.length} members Ready${ready.length > 0 ? ` (${ready.map((n) => n.hostname).join(', ')})` : ''}`;
}

/** Rows as columns padded to their widest cell. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
}

/** The whole screen: the header, the report's lines, then what is missing (or that all is ready). */
export function formatReport(plan: ClusterPlan, source: string, report: StatusReport, kubeconfig: string): string {
  const head = `cluster ${plan.spec.name} (${source}), ${plan.nodes.length} nodes planned; libvirt ${plan.spec.libvirt.uri}; kubeconfig ${kubeconfig}`;
  const tail = report.ready ? ['', 'READY: every planned node runs, holds its lease and is a Ready Node; the API and etcd are ready.'] : ['', `NOT READY (${report.problems.length}):`, ...report.problems.map((p) => `  - ${p}`)];
  return [head, '', ...report.lines, ...tail].join('\n') + '\n';
}

// --- the command line ---

/** `npm run status -- [options]`, parsed. */
export interface StatusOptions {
  /** The kubeconfig to ask the API with. @default - the one synth writes (`<cluster>.kubeconfig`) */
  readonly kubeconfig?: string;
  /** Skip libvirt (a cluster whose nodes are no libvirt domains, e.g. containers). @default false */
  readonly noLibvirt: boolean;
  /** Ask again until ready, for at most this many seconds. @default - ask once */
  readonly waitSeconds?: number;
  /** Seconds between two rounds of --wait. @default 10 */
  readonly intervalSeconds: number;
  readonly help: boolean;
}

/** The usage text of `npm run status`. */
export const STATUS_USAGE = `Usage: npm run status -- [--kubeconfig PATH] [--no-libvirt] [--wait SECONDS] [--interval SECONDS]
  Reports the spec's cluster (CLUSTER_CONFIG, else cluster.yaml, else the default) from this host:
  each planned node's libvirt domain and DHCP lease, its Kubernetes Node (Ready, roles, pool),
  the API's /readyz through the load balancer, and the etcd members.
  --kubeconfig PATH   ask the API with this kubeconfig (default: the <cluster>.kubeconfig synth writes)
  --no-libvirt        do not ask libvirt (nodes that are not libvirt domains)
  --wait SECONDS      ask again every --interval seconds until ready, for at most SECONDS
  --interval SECONDS  seconds between two rounds of --wait (default 10)
Exit codes: 0 ready; 1 not ready (what is missing is listed); 2 bad input.`;

/**
 * Parses the arguments. @throws Error naming the option, the value received and what is allowed.
 */
export function parseStatusArgs(argv: readonly string[]): StatusOptions {
  let kubeconfig: string | undefined;
  let noLibvirt = false;
  let waitSeconds: number | undefined;
  let intervalSeconds = 10;
  let help = false;
  const seconds = (name: string, value: string | undefined, min: number): number => {
    if (value === undefined || !/^\d+$/.test(value) || +value < min) throw new Error(`${name} must be followed by a whole number of seconds, at least ${min}; got ${JSON.stringify(value ?? null)}`);
    return +value;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--kubeconfig': {
        const v = value();
        if (v === undefined || v === '') throw new Error(`--kubeconfig must be followed by a path; got ${JSON.stringify(v ?? null)}`);
        kubeconfig = v;
        break;
      }
      case '--no-libvirt':
        noLibvirt = true;
        break;
      case '--wait':
        waitSeconds = seconds('--wait', value(), 1);
        break;
      case '--interval':
        intervalSeconds = seconds('--interval', value(), 1);
        break;
      case '-h':
      case '--help':
        help = true;
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(a)}; allowed: --kubeconfig PATH, --no-libvirt, --wait SECONDS, --interval SECONDS, --help`);
    }
  }
  return { ...(kubeconfig !== undefined ? { kubeconfig } : {}), noLibvirt, ...(waitSeconds !== undefined ? { waitSeconds } : {}), intervalSeconds, help };
}
