import { API_SERVER_PORT, ClusterPlan } from '../spec';
import { checkAddress, checkInt, checkPort, checkServerName, haproxyDuration } from './private/haproxy-input';

/**
 * haproxy.cfg of the load-balancer VM: one TCP frontend for the Kubernetes API, round-robin over
 * the control planes, each health-checked with `GET /healthz` over TLS. The shape follows kubeadm's
 * HA guide (docs/ha-considerations.md); kept valid for the HAProxy of Debian 12 / Ubuntu 24.04
 * (2.6 to 2.8). Pure: plain data in, the file's text out.
 *
 * No stats listener of any kind is rendered (neither a `stats` page nor a stats socket): nothing
 * in the cluster reads one, and every listener is one more thing to secure. Server state changes
 * ("Server apiserverbackend/NAME is DOWN") are logged to stdout, which systemd hands to the journal.
 */

/** Where the file goes on the load-balancer VM (Debian's haproxy package reads it there). */
export const HAPROXY_CONFIG_PATH = '/etc/haproxy/haproxy.cfg';
/** The frontend's name. */
export const HAPROXY_FRONTEND = 'apiserver';
/** The backend's name: log lines about servers read `apiserverbackend/<server> is DOWN`. */
export const HAPROXY_BACKEND = 'apiserverbackend';

/** How HAProxy decides a control plane is up or down. */
export interface HaproxyHealthCheck {
  /** Time between two checks of one server, in milliseconds. @default 2000 (HAProxy's own default) */
  readonly interMs: number;
  /** Consecutive failed checks that mark a server down. @default 3 (HAProxy's own default) */
  readonly fall: number;
  /** Consecutive passed checks that bring a down server back. @default 2 (HAProxy's own default) */
  readonly rise: number;
  /** `timeout check`: how long one check may wait for the answer once connected, in milliseconds. @default 10000 (kubeadm's guide) */
  readonly timeoutCheckMs: number;
}

/** One API server behind the load balancer. */
export interface HaproxyBackendServer {
  /** Server name in HAProxy's logs: the node's hostname. */
  readonly name: string;
  /** IPv4 address or hostname of the API server. */
  readonly address: string;
  /** The API server's TLS port. */
  readonly port: number;
}

/** Everything haproxy.cfg depends on. */
export interface HaproxyConfigInput {
  /** Where clients connect: `*` binds every address of the node (so a keepalived virtual IP too). */
  readonly frontend: { readonly address: string; readonly port: number };
  /** The API servers, in order; at least one, with unique names. */
  readonly backends: readonly HaproxyBackendServer[];
  /** Health-check timing; fields left out take their defaults. @default DEFAULT_HAPROXY_HEALTH_CHECK */
  readonly healthCheck?: Partial<HaproxyHealthCheck>;
  /** The unprivileged account HAProxy drops to once its port is bound. @default { user: 'haproxy', group: 'haproxy' } (created by Debian's package) */
  readonly runAs?: { readonly user: string; readonly group: string };
}

/** Health-check timing used when the input leaves it out: HAProxy's defaults, and kubeadm's `timeout check`. */
export const DEFAULT_HAPROXY_HEALTH_CHECK: HaproxyHealthCheck = { interMs: 2000, fall: 3, rise: 2, timeoutCheckMs: 10_000 };

/** Connection timeouts from kubeadm's guide, in milliseconds. */
export const HAPROXY_TIMEOUTS = { connectMs: 5000, clientMs: 35_000, serverMs: 35_000 } as const;

/** The health check with every default resolved. */
export function resolveHealthCheck(healthCheck: Partial<HaproxyHealthCheck> = {}): HaproxyHealthCheck {
  return { ...DEFAULT_HAPROXY_HEALTH_CHECK, ...stripUndefined(healthCheck) };
}

/**
 * The longest a stopped server (one that refuses connections) can keep its place in the rotation:
 * the next check starts at most `inter` after the stop, `fall` failures `inter` apart mark it down,
 * and no check lasts longer than `timeout check`. A bound to test against, not a promise about
 * servers that black-hole packets (their checks also wait for the connect timeout).
 */
export function failoverBoundMs(healthCheck: HaproxyHealthCheck): number {
  return healthCheck.fall * healthCheck.interMs + healthCheck.timeoutCheckMs;
}

/** The same bound for a server coming back: `rise` passed checks. */
export function recoveryBoundMs(healthCheck: HaproxyHealthCheck): number {
  return healthCheck.rise * healthCheck.interMs + healthCheck.timeoutCheckMs;
}

/**
 * Renders haproxy.cfg.
 * @throws Error naming every invalid field, the value received and what is allowed.
 */
export function renderHaproxyConfig(input: HaproxyConfigInput): string {
  const check = resolveHealthCheck(input.healthCheck);
  const runAs = input.runAs ?? { user: 'haproxy', group: 'haproxy' };
  validate(input, check, runAs);

  const lines: string[] = [
    `# ${HAPROXY_CONFIG_PATH} - rendered by bootstrap/haproxy-config.ts; edits are overwritten.`,
    '# Kubernetes API load balancer, after kubeadm docs/ha-considerations.md.',
    '',
    'global',
    // systemd runs haproxy in the foreground (-Ws); stdout goes to the journal.
    '    log stdout format raw local0',
    `    user ${runAs.user}`,
    `    group ${runAs.group}`,
    '',
    'defaults',
    '    mode tcp',
    '    log global',
    '    option dontlognull',
    // A connection refused by a server not yet marked down is retried once, on another server.
    '    option redispatch',
    '    retries 1',
    `    timeout connect ${haproxyDuration(HAPROXY_TIMEOUTS.connectMs)}`,
    `    timeout client ${haproxyDuration(HAPROXY_TIMEOUTS.clientMs)}`,
    `    timeout server ${haproxyDuration(HAPROXY_TIMEOUTS.serverMs)}`,
    '',
    `frontend ${HAPROXY_FRONTEND}`,
    `    bind ${input.frontend.address}:${input.frontend.port}`,
    '    mode tcp',
    '    option tcplog',
    `    default_backend ${HAPROXY_BACKEND}`,
    '',
    `backend ${HAPROXY_BACKEND}`,
    '    mode tcp',
    '    balance roundrobin',
    '    option httpchk',
    '    http-check connect ssl',
    '    http-check send meth GET uri /healthz',
    '    http-check expect status 200',
    `    timeout check ${haproxyDuration(check.timeoutCheckMs)}`,
    // The API servers' certificates are signed by the cluster CA, which HAProxy does not hold.
    ...input.backends.map(
      (b) => `    server ${b.name} ${b.address}:${b.port} check verify none inter ${haproxyDuration(check.interMs)} fall ${check.fall} rise ${check.rise}`,
    ),
  ];
  return lines.join('\n') + '\n';
}

/**
 * The HAProxy input for a cluster: bind `*:6443` on the load balancer, one server per control
 * plane at `<ip>:6443`, named after its hostname.
 */
export function haproxyInputForCluster(plan: ClusterPlan): HaproxyConfigInput {
  return {
    frontend: { address: '*', port: plan.apiEndpoint.port },
    backends: plan.controlPlanes.map((cp) => ({ name: cp.hostname, address: cp.ip, port: API_SERVER_PORT })),
  };
}

/** haproxy.cfg of a cluster's load balancer(s). */
export function haproxyConfigForCluster(plan: ClusterPlan): string {
  return renderHaproxyConfig(haproxyInputForCluster(plan));
}

function validate(input: HaproxyConfigInput, check: HaproxyHealthCheck, runAs: { user: string; group: string }): void {
  const problems: string[] = [
    ...checkAddress('frontend.address', input.frontend.address, true),
    ...checkPort('frontend.port', input.frontend.port),
    ...checkInt('healthCheck.interMs', check.interMs, 100, 3_600_000, ' (milliseconds)'),
    ...checkInt('healthCheck.fall', check.fall, 1, 100),
    ...checkInt('healthCheck.rise', check.rise, 1, 100),
    ...checkInt('healthCheck.timeoutCheckMs', check.timeoutCheckMs, 100, 3_600_000, ' (milliseconds)'),
  ];
  const account = /^[a-z_][a-z0-9_-]*$/;
  for (const key of ['user', 'group'] as const) {
    if (!account.test(runAs[key])) problems.push(`runAs.${key} must be a system account name (lowercase letters, digits, '_', '-'), got ${JSON.stringify(runAs[key])}`);
  }
  if (input.backends.length === 0) problems.push('backends must list at least one API server, got []');
  const seen = new Map<string, number>();
  input.backends.forEach((b, i) => {
    problems.push(...checkServerName(`backends[${i}].name`, b.name), ...checkAddress(`backends[${i}].address`, b.address, false), ...checkPort(`backends[${i}].port`, b.port));
    const first = seen.get(b.name);
    if (first !== undefined) problems.push(`backends[${i}].name must be unique, got ${JSON.stringify(b.name)} (also backends[${first}].name)`);
    else seen.set(b.name, i);
  });
  if (problems.length > 0) throw new Error(`invalid haproxy.cfg input:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
