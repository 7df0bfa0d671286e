import { ClusterPlan, NodePlan } from '../spec';
import { checkKeepalivedInt, checkKeepalivedPath, checkKeepalivedPlan } from './private/keepalived-input';

/**
 * keepalived.conf of the two load-balancer VMs (`loadBalancer.count: 2`): VRRP moves the API's
 * virtual IP (`loadBalancer.virtualIp`, plan.apiEndpoint.ip) to whichever load balancer is healthy.
 * The shape follows kubeadm's HA guide (docs/ha-considerations.md: a `vrrp_script` checking the API
 * plus a `vrrp_instance` holding the address), with these choices:
 *
 * - Health: the script asks the API's `/healthz` through the node's own HAProxy
 *   (`https://127.0.0.1:6443`), so it fails when HAProxy is down or has no healthy API server.
 *   A failing check *lowers* the priority by 2 (`weight -2`) rather than putting the node in FAULT:
 *   lb-1 101 → 99 falls below a healthy lb-2 (100), but when both fail (no API server yet during
 *   the first boot, or every control plane down) lb-1 keeps the address instead of nobody holding it.
 * - Roles: lb-1 starts `MASTER` with priority 101, lb-2 `BACKUP` with 100. Preemption stays on
 *   (keepalived's default; `nopreempt` only works when both start as BACKUP): once lb-1 is healthy
 *   again (`rise` passed checks) it takes the address back, so "the VIP is on lb-1" is the normal state.
 * - Unicast: adverts go from the node's address (`unicast_src_ip`) to the other load balancer
 *   (`unicast_peer`); no multicast is needed, and `check_unicast_src` drops adverts from any other source.
 * - No VRRP authentication: RFC 3768 removed it from VRRPv2 and VRRPv3 has none; `auth_type PASS`
 *   sends its 8 characters in clear text in every advert, so it protects against nothing a
 *   `check_unicast_src` peer list does not already exclude. No cluster secret is needed.
 * - virtual_router_id: see keepalivedVirtualRouterId().
 * - The interface: keepalived must name the interface that holds the node's address, and its
 *   name depends on the image and the virtual hardware (`enp1s0` on Ubuntu cloud images with
 *   virtio under libvirt, but nothing guarantees it). So this file names no interface: it
 *   `includer`s KEEPALIVED_INTERFACE_FILE, a one-line definition `$K8S_LAB_INTERFACE=<name>` that the
 *   load balancer's bootstrap writes after asking `ip -o -4 addr show to <node ip>/32` which
 *   interface holds the node's address, and uses `${K8S_LAB_INTERFACE}` (keepalived's parameter
 *   substitution). `includer` makes a missing file a configuration error.
 * - Scripts run as root (`script_user root` with `enable_script_security`, so keepalived refuses
 *   a script a non-root user could change). A non-root `script_user` would be nicer for a curl, but
 *   keepalived 2.2.7's `keepalived -t` kills itself with SIGTERM whenever `script_user` is not root
 *   (acassen/keepalived#2617), and the bootstrap validates with `keepalived -t` before starting.
 *
 * Pure: plain data in, the file's text out.
 */

/** Where the file goes on a load-balancer VM (Debian's keepalived unit reads it there). */
export const KEEPALIVED_CONFIG_PATH = '/etc/keepalived/keepalived.conf';
/** The one-line definition of the interface parameter, written at boot (see KEEPALIVED_INTERFACE_PARAMETER). */
export const KEEPALIVED_INTERFACE_FILE = '/etc/keepalived/k8s-lab-interface.conf';
/** The health check keepalived runs (root-owned, 0755: enable_script_security refuses anything else). */
export const KEEPALIVED_CHECK_SCRIPT_PATH = '/etc/keepalived/k8s-lab-check-apiserver.sh';
/** The keepalived parameter naming the interface that holds the node's address. */
export const KEEPALIVED_INTERFACE_PARAMETER = 'K8S_LAB_INTERFACE';
/** Names inside keepalived.conf. */
export const KEEPALIVED_SCRIPT_NAME = 'k8s_lab_apiserver';
export const KEEPALIVED_INSTANCE_NAME = 'k8s_lab_api';
/** Priorities of lb-1 and lb-2. */
export const KEEPALIVED_PRIORITIES = [101, 100] as const;
/**
 * What a failing health check subtracts from a node's priority. Its size must exceed the gap
 * between the two priorities (1), so an unhealthy lb-1 (99) falls below a healthy lb-2 (100).
 */
export const KEEPALIVED_CHECK_WEIGHT = -2;

/** VRRP and health-check timing. keepalived takes whole seconds for all of them here. */
export interface KeepalivedTiming {
  /** Seconds between two adverts of the master (`advert_int`). @default 1 */
  readonly advertIntSec: number;
  /** Seconds between two runs of the health check (`interval`). @default 2 */
  readonly checkIntervalSec: number;
  /** How long one check may take: curl's `--max-time`; keepalived kills it one second later (`timeout`). @default 2 */
  readonly checkTimeoutSec: number;
  /** Consecutive failed checks that lower the priority (`fall`). @default 3 */
  readonly fall: number;
  /** Consecutive passed checks that restore it (`rise`). @default 2 */
  readonly rise: number;
}

/** Timing used when the options leave it out. */
export const DEFAULT_KEEPALIVED_TIMING: KeepalivedTiming = { advertIntSec: 1, checkIntervalSec: 2, checkTimeoutSec: 2, fall: 3, rise: 2 };

/** What the renderer may be told besides the plan; the VMs use the defaults, tests point paths elsewhere. */
export interface KeepalivedConfigOptions {
  /** The file defining the interface parameter. @default KEEPALIVED_INTERFACE_FILE */
  readonly interfaceFile?: string;
  /** The health-check script. @default KEEPALIVED_CHECK_SCRIPT_PATH */
  readonly checkScript?: string;
  /** Timing; fields left out take their defaults. @default DEFAULT_KEEPALIVED_TIMING */
  readonly timing?: Partial<KeepalivedTiming>;
}

/** The timing with every default resolved. */
export function resolveKeepalivedTiming(timing: Partial<KeepalivedTiming> = {}): KeepalivedTiming {
  const given = Object.fromEntries(Object.entries(timing).filter(([, v]) => v !== undefined)) as Partial<KeepalivedTiming>;
  return { ...DEFAULT_KEEPALIVED_TIMING, ...given };
}

/**
 * The VRRP router id: the last octet of the virtual IP (192.168.150.2 → 2). Two VRRP instances
 * on one L2 segment must not share an id. Two clusters share an L2 segment only when they share
 * the node network, and then their virtual IPs are different host offsets 2 to 4 of the same
 * network, so their last octets differ too. (Two *different* networks bridged onto one segment
 * could collide; with unicast adverts and check_unicast_src they would still not hear each other.)
 * Never 0 or 255: the virtual IP is host offset 2 to 4 of a network of at least 8 addresses.
 */
export function keepalivedVirtualRouterId(plan: ClusterPlan): number {
  const vip = plan.spec.loadBalancer.virtualIp;
  if (vip === undefined) throw new Error(`loadBalancer.virtualIp must be set for keepalived, got undefined (cluster ${plan.spec.name})`);
  const id = Number(vip.split('.')[3]);
  if (!Number.isInteger(id) || id < 1 || id > 255) throw new Error(`loadBalancer.virtualIp must end in an octet from 1 to 255 to serve as virtual_router_id, got ${vip}`);
  return id;
}

/**
 * The longest the virtual IP stays on a master whose health check starts failing with refused
 * connections (HAProxy gone), until the backup holds it: the first failed check starts within one
 * `interval`, `fall` of them mark the script failed (the last may run until keepalived kills it,
 * checkTimeoutSec + 1), then the backup ignores the lowered adverts and takes over when its
 * master-down timer expires, 3 × advert_int + skew (skew < advert_int) after the last advert it accepted.
 *   fall × interval + (checkTimeout + 1) + 4 × advert_int
 */
export function keepalivedFailoverBoundMs(timing: KeepalivedTiming): number {
  return (timing.fall * timing.checkIntervalSec + timing.checkTimeoutSec + 1 + 4 * timing.advertIntSec) * 1000;
}

/** The same for lb-1 taking the address back once healthy (preemption): rise × interval + (checkTimeout + 1) + 4 × advert_int. */
export function keepalivedFailbackBoundMs(timing: KeepalivedTiming): number {
  return (timing.rise * timing.checkIntervalSec + timing.checkTimeoutSec + 1 + 4 * timing.advertIntSec) * 1000;
}

/** A master that disappears (VM gone, keepalived killed): the backup's master-down timer, 3 × advert_int + skew < 4 × advert_int. */
export function keepalivedMasterDownBoundMs(timing: KeepalivedTiming): number {
  return 4 * timing.advertIntSec * 1000;
}

/**
 * Renders keepalived.conf for one of the two load balancers.
 * @throws Error naming every invalid field, the value received and what is allowed (also when the
 *   plan has one load balancer: then nothing of keepalived is rendered at all).
 */
export function renderKeepalivedConfig(plan: ClusterPlan, node: NodePlan, options: KeepalivedConfigOptions = {}): string {
  const timing = resolveKeepalivedTiming(options.timing);
  const interfaceFile = options.interfaceFile ?? KEEPALIVED_INTERFACE_FILE;
  const checkScript = options.checkScript ?? KEEPALIVED_CHECK_SCRIPT_PATH;
  validate(plan, node, timing, interfaceFile, checkScript);

  const self = plan.loadBalancers.find((lb) => lb.hostname === node.hostname)!;
  const peers = plan.loadBalancers.filter((lb) => lb.hostname !== node.hostname);
  const isFirst = self.index === 0;
  const iface = `\${${KEEPALIVED_INTERFACE_PARAMETER}}`;
  const vip = `${plan.apiEndpoint.ip}/${plan.network.prefixLength}`;

  const lines: string[] = [
    `# ${KEEPALIVED_CONFIG_PATH} on ${self.hostname} - rendered by bootstrap/keepalived-config.ts; edits are overwritten.`,
    `# Moves the API virtual IP ${plan.apiEndpoint.ip} between ${plan.loadBalancers.map((lb) => lb.hostname).join(' and ')} (VRRP, unicast),`,
    '# after kubeadm docs/ha-considerations.md.',
    '',
    `# Defines \$${KEEPALIVED_INTERFACE_PARAMETER}: the interface holding ${self.ip}, found at boot (ip -o -4 addr show to ${self.ip}/32).`,
    `includer ${interfaceFile}`,
    '',
    'global_defs {',
    `    router_id ${self.hostname}`,
    // Refuse scripts a non-root user could modify; run them as root (see the file's header).
    '    enable_script_security',
    '    script_user root',
    '}',
    '',
    `# The API through this node's HAProxy; ${timing.fall} failures lower the priority by ${-KEEPALIVED_CHECK_WEIGHT}, ${timing.rise} passes restore it.`,
    `vrrp_script ${KEEPALIVED_SCRIPT_NAME} {`,
    `    script "${checkScript}"`,
    `    interval ${timing.checkIntervalSec}`,
    `    timeout ${timing.checkTimeoutSec + 1}`,
    `    fall ${timing.fall}`,
    `    rise ${timing.rise}`,
    `    weight ${KEEPALIVED_CHECK_WEIGHT}`,
    '}',
    '',
    `vrrp_instance ${KEEPALIVED_INSTANCE_NAME} {`,
    `    state ${isFirst ? 'MASTER' : 'BACKUP'}`,
    `    interface ${iface}`,
    `    virtual_router_id ${keepalivedVirtualRouterId(plan)}`,
    `    priority ${KEEPALIVED_PRIORITIES[self.index]}`,
    `    advert_int ${timing.advertIntSec}`,
    `    unicast_src_ip ${self.ip}`,
    '    unicast_peer {',
    ...peers.map((p) => `        ${p.ip}`),
    '    }',
    '    check_unicast_src',
    '    virtual_ipaddress {',
    `        ${vip} dev ${iface}`,
    '    }',
    '    track_script {',
    `        ${KEEPALIVED_SCRIPT_NAME}`,
    '    }',
    '}',
  ];
  return lines.join('\n') + '\n';
}

function validate(plan: ClusterPlan, node: NodePlan, timing: KeepalivedTiming, interfaceFile: string, checkScript: string): void {
  const problems: string[] = [
    ...checkKeepalivedPlan(plan, node),
    ...checkKeepalivedPath('interfaceFile', interfaceFile),
    ...checkKeepalivedPath('checkScript', checkScript),
    ...checkKeepalivedInt('timing.advertIntSec', timing.advertIntSec, 1, 255, ' (seconds)'),
    ...checkKeepalivedInt('timing.checkIntervalSec', timing.checkIntervalSec, 1, 3600, ' (seconds)'),
    ...checkKeepalivedInt('timing.checkTimeoutSec', timing.checkTimeoutSec, 1, 3600, ' (seconds)'),
    ...checkKeepalivedInt('timing.fall', timing.fall, 1, 100),
    ...checkKeepalivedInt('timing.rise', timing.rise, 1, 100),
  ];
  if (problems.length > 0) throw new Error(`invalid keepalived.conf input:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}
