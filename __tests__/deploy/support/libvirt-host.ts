import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClusterPlan, DomainType, addressAt, overlaps, parseIpv4Network } from '../../../spec';
import { processIsGone, runningCommand } from '../../support/processes';
import { namespacesOfDeadRuns } from '../../support/stale-namespaces';
import { ROOT, RunResult, runWithTools } from '../../support/tools';

/** The libvirt connection every check uses (the spec's default, and the daemon scripts/libvirtd.sh starts). */
export const LIBVIRT_URI = 'qemu:///system';

/** Runs `command args` with the project's tools; throws with its output unless it exits 0. */
export function mustRun(command: string, args: readonly string[], timeoutMs = 120_000): string {
  const run = runWithTools(command, args, { timeoutMs });
  if (run.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${run.status}:\n${run.stdout}${run.stderr}`);
  }
  return run.stdout;
}

/** `virsh -c qemu:///system ARGS`, throwing unless it succeeds. */
export function virsh(...args: string[]): string {
  return mustRun('virsh', ['-c', LIBVIRT_URI, ...args]);
}

/** `virsh -c qemu:///system ARGS`, whatever it exits with (for cleanup and "is it gone?" checks). */
export function virshMaybe(...args: string[]): RunResult {
  return runWithTools('virsh', ['-c', LIBVIRT_URI, ...args], { timeoutMs: 120_000 });
}

/** The last non-empty line a script printed on stdout (its result; logs go to stderr). */
function lastLine(stdout: string): string {
  return stdout.trim().split('\n').pop()?.trim() ?? '';
}

/**
 * Builds (or reuses) the deploy tier's base image: scripts/make-test-image.sh. Returns the qcow2's
 * absolute path and the kernel inside it (which scripts/libvirtd.sh boots to probe KVM).
 */
export function buildTestImage(): { image: string; kernel: string } {
  const image = lastLine(mustRun('bash', [path.join(ROOT, 'scripts', 'make-test-image.sh')], 600_000));
  const kernel = path.join(path.dirname(image), 'vmlinuz');
  if (!path.isAbsolute(image) || !fs.existsSync(image) || !fs.existsSync(kernel)) {
    throw new Error(`scripts/make-test-image.sh printed ${JSON.stringify(image)}, which is not an image with a vmlinuz beside it`);
  }
  return { image, kernel };
}

/** Where scripts/libvirtd.sh records the daemons a deploy run started: one file per run, named with its pid. */
const RECORD_PREFIX = 'k8s-lab-libvirtd-started-';
/** This run's record (K8S_LAB_LIBVIRTD_STARTED): `NAME PID` per daemon it started. */
const STARTED_DAEMONS = path.join(os.tmpdir(), `${RECORD_PREFIX}${process.pid}`);

/**
 * Starts virtlogd and libvirtd if needed (scripts/libvirtd.sh); returns the domain type KVM allows. What it
 * started is recorded, and so is what a killed deploy run started (adoptDaemonsOfDeadRuns):
 * stopStartedLibvirtd() stops exactly that.
 */
export function startLibvirtd(probeKernel: string): DomainType {
  adoptDaemonsOfDeadRuns();
  const run = runWithTools('bash', [path.join(ROOT, 'scripts', 'libvirtd.sh'), probeKernel], { timeoutMs: 120_000, env: { K8S_LAB_LIBVIRTD_STARTED: STARTED_DAEMONS } });
  if (run.status !== 0) throw new Error(`scripts/libvirtd.sh exited ${run.status}:\n${run.stdout}${run.stderr}`);
  const word = lastLine(run.stdout);
  if (word === DomainType.KVM) return DomainType.KVM;
  if (word === DomainType.QEMU) return DomainType.QEMU;
  throw new Error(`scripts/libvirtd.sh printed ${JSON.stringify(word)}; expected kvm or qemu`);
}

/** The `NAME PID` lines of a record, as pairs. */
function recordedIn(record: string): [string, string][] {
  return fs.readFileSync(record, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);
}

/** Whether process `pid` still runs the daemon `name`, so a reused pid is never taken for it. */
function runsDaemon(name: string, pid: string): boolean {
  return runningCommand(pid) === name;
}

/**
 * Takes over what a deploy run killed before its cleanup (Ctrl-C, a CI timeout) started: the records in `dir` of
 * runs whose pid is gone. Each daemon still running is added to `record` (so it is stopped with this run's own),
 * and the dead run's record is removed. A live run's record is left alone. Without this, the next run finds the
 * killed run's libvirtd "already running", and nothing ever stops it.
 */
export function adoptDaemonsOfDeadRuns(dir = os.tmpdir(), record = STARTED_DAEMONS): void {
  for (const file of fs.readdirSync(dir)) {
    const m = new RegExp(`^${RECORD_PREFIX}(\\d+)$`).exec(file);
    // A live run's daemons are its own; a dead run's are ours to stop.
    if (!m || path.join(dir, file) === record || !processIsGone(Number(m[1]))) continue;
    const dead = path.join(dir, file);
    const running = recordedIn(dead).filter(([name, pid]) => runsDaemon(name, pid));
    if (running.length > 0) fs.appendFileSync(record, running.map(([name, pid]) => `${name} ${pid}\n`).join(''));
    fs.rmSync(dead, { force: true });
  }
}

/**
 * Stops the daemons recorded in `record` (this run's: what startLibvirtd started or adopted), last recorded
 * first (libvirtd, then virtlogd), each only while that pid still runs that daemon; SIGKILL after 15 s. A daemon
 * that already ran is not this tier's to stop, and was not recorded.
 */
export function stopStartedLibvirtd(record = STARTED_DAEMONS): void {
  if (!fs.existsSync(record)) return;
  for (const [name, pid] of recordedIn(record).reverse()) {
    if (!runsDaemon(name, pid)) continue;
    process.kill(Number(pid), 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (runsDaemon(name, pid) && Date.now() < deadline) spawnSync('sleep', ['0.2']);
    if (runsDaemon(name, pid)) process.kill(Number(pid), 'SIGKILL');
  }
  fs.rmSync(record, { force: true });
}

/** Names from a `virsh ... --name` listing. */
export function names(listing: string): string[] {
  return listing
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** What a test cluster left in libvirt: domains named with its prefix, its network and its pool. */
export interface Leftovers {
  readonly domains: readonly string[];
  readonly networks: readonly string[];
  readonly pools: readonly string[];
}

/**
 * Whether the libvirt object `object` counts as the test cluster `name`'s (exactly `name`, or
 * `name-…`): what leftoversOf lists and sweep removes. Two test clusters must not own each other's.
 */
export function isNamedAfter(name: string, object: string): boolean {
  return object === name || object.startsWith(`${name}-`);
}

/** The domains, networks and pools of the test cluster `name` that exist now. */
export function leftoversOf(name: string): Leftovers {
  const ours = (n: string) => isNamedAfter(name, n);
  return {
    domains: names(virsh('list', '--all', '--name')).filter(ours),
    networks: names(virsh('net-list', '--all', '--name')).filter(ours),
    pools: names(virsh('pool-list', '--all', '--name')).filter(ours),
  };
}

/**
 * Removes, with virsh alone, every domain, volume, pool and network named after the test cluster
 * `name` (exactly, or `name-…`) and the pool's directory: the sweep after a failed or interrupted
 * run, when Terraform's state cannot be trusted. Never touches anything else.
 */
export function sweep(name: string, poolPath: string): void {
  const left = leftoversOf(name);
  for (const domain of left.domains) {
    virshMaybe('destroy', domain);
    virshMaybe('undefine', domain);
  }
  for (const pool of left.pools) {
    const vols = virshMaybe('vol-list', '--pool', pool);
    for (const vol of vols.status === 0 ? volumesOf(vols.stdout) : []) virshMaybe('vol-delete', '--pool', pool, vol);
    virshMaybe('pool-destroy', pool);
    virshMaybe('pool-undefine', pool);
  }
  for (const network of left.networks) {
    virshMaybe('net-destroy', network);
    virshMaybe('net-undefine', network);
  }
  fs.rmSync(poolPath, { recursive: true, force: true });
}

/** The DHCP leases of a libvirt network: MAC (lower case) => IP. */
export function dhcpLeases(network: string): Map<string, string> {
  const leases = new Map<string, string>();
  for (const line of virsh('net-dhcp-leases', network).split('\n')) {
    const m = /\s([0-9a-f]{2}(?::[0-9a-f]{2}){5})\s+ipv4\s+(\d+\.\d+\.\d+\.\d+)\//i.exec(line);
    if (m) leases.set(m[1].toLowerCase(), m[2]);
  }
  return leases;
}

/** Waits (at most `timeoutMs`) until every MAC holds its IP in the network's leases. */
export async function waitForLeases(network: string, expected: ReadonlyMap<string, string>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leases = dhcpLeases(network);
    const missing = [...expected].filter(([mac, ip]) => leases.get(mac) !== ip);
    if (missing.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `no DHCP lease within ${timeoutMs / 1000}s for ${missing.map(([mac, ip]) => `${mac}=>${ip}`).join(', ')} in network ${network}; leases: ${JSON.stringify([...leases])}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

/** The DHCP host entries of a libvirt network's XML: MAC (lower case) => IP. */
export function dhcpHosts(network: string): Map<string, string> {
  const xml = virsh('net-dumpxml', network);
  const hosts = new Map<string, string>();
  for (const m of xml.matchAll(/<host mac='([^']+)'[^>]*\sip='([^']+)'/g)) hosts.set(m[1].toLowerCase(), m[2]);
  return hosts;
}

/**
 * An address of the plan's network that no node, virtual IP or gateway uses (the highest free host
 * address): where the tier's probe namespace sits on the network's bridge, as one more guest would.
 */
export function probeAddress(plan: ClusterPlan): string {
  const net = parseIpv4Network(plan.network.cidr);
  if (net === undefined) throw new Error(`plan.network.cidr ${plan.network.cidr} is not an IPv4 network`);
  const used = new Set([plan.network.gateway, plan.apiEndpoint.ip, ...plan.nodes.map((n) => n.ip)]);
  for (let offset = net.size - 2; offset > 0; offset--) {
    const ip = addressAt(net, offset);
    if (!used.has(ip)) return ip;
  }
  throw new Error(`network ${plan.network.cidr} has no free address for the probe namespace`);
}

/** How long a new bridge port may take to reach STP's forwarding state (libvirt's bridges run STP). */
const PORT_FORWARDING_TIMEOUT_MS = 30_000;

/** Blocks this thread for `ms` (the namespace helpers are synchronous, like the virsh calls around them). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Waits until the bridge port `port` forwards. A libvirt network's bridge runs STP, so a new port spends
 * about 4 s listening and learning, and drops what is sent meanwhile (the first query timed out).
 */
function waitUntilForwarding(port: string): void {
  const deadline = Date.now() + PORT_FORWARDING_TIMEOUT_MS;
  for (;;) {
    const links = JSON.parse(mustRun('bridge', ['-j', 'link', 'show', 'dev', port])) as { state?: string }[];
    const state = links[0]?.state;
    if (state === 'forwarding') return;
    if (Date.now() > deadline) {
      throw new Error(`bridge port ${port} is still ${state ?? 'without a state'} after ${PORT_FORWARDING_TIMEOUT_MS / 1000}s; expected forwarding`);
    }
    sleepSync(200);
  }
}

/** Runs one command inside the probe namespace; returns its stdout, throws unless it exits 0. */
export type NamespaceRunner = (command: string, args: readonly string[]) => string;

/**
 * Creates a network namespace of this process's own, plugs it into the libvirt network `network`'s bridge
 * by a veth pair with `probeAddress(plan)`, waits until the bridge forwards for it, calls `use` with a runner
 * for commands inside it, and removes both afterwards, also when `use` throws: what the tier sends to the
 * network's addresses leaves from a namespace of its own, over the bridge, the way a VM's packets reach
 * the network's dnsmasq.
 */
export function withProbeNamespace<T>(plan: ClusterPlan, network: string, use: (run: NamespaceRunner) => T): T {
  const bridge = /^Bridge:\s+(\S+)$/m.exec(virsh('net-info', network))?.[1];
  if (bridge === undefined) throw new Error(`virsh net-info ${network} names no bridge`);
  const ns = `k8s-lab-probe-${process.pid}`;
  const hostEnd = `k8sprobe${process.pid % 1_000_000}`; // an interface name has at most 15 characters
  removeDeadProbeNamespaces();
  try {
    mustRun('ip', ['netns', 'add', ns]);
    mustRun('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    mustRun('ip', ['link', 'set', hostEnd, 'master', bridge, 'up']);
    mustRun('ip', ['-n', ns, 'addr', 'add', `${probeAddress(plan)}/${plan.network.prefixLength}`, 'dev', 'eth0']);
    mustRun('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    waitUntilForwarding(hostEnd);
    return use((command, args) => mustRun('ip', ['netns', 'exec', ns, command, ...args]));
  } finally {
    // Deleting the host end removes its peer; the namespace goes last. Either may not exist yet.
    runWithTools('ip', ['link', 'del', hostEnd], { timeoutMs: 30_000 });
    runWithTools('ip', ['netns', 'del', ns], { timeoutMs: 30_000 });
  }
}

/**
 * Deletes the probe namespaces of earlier runs killed inside withProbeNamespace (their pid is gone); with a
 * namespace goes its veth end, and so the pair's end on the host.
 */
function removeDeadProbeNamespaces(): void {
  for (const { namespace } of namespacesOfDeadRuns('k8s-lab-probe')) runWithTools('ip', ['netns', 'del', namespace], { timeoutMs: 30_000 });
}

/**
 * `dig +short @gateway name A` for each name, from the tier's own namespace on the network's bridge
 * ({@link withProbeNamespace}, one for all the names): name => the addresses the network's own dnsmasq
 * answers a guest (only it is asked).
 */
export function resolveAll(plan: ClusterPlan, network: string, fqdns: readonly string[]): Map<string, string[]> {
  return withProbeNamespace(plan, network, (run) => {
    const answers = new Map<string, string[]>();
    for (const fqdn of fqdns) {
      const out = run('dig', ['+short', '+time=2', '+tries=2', `@${plan.network.gateway}`, fqdn, 'A']);
      answers.set(
        fqdn,
        out
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== ''),
      );
    }
    return answers;
  });
}

/** A volume's path in the storage pool `pool`. */
export function volPath(pool: string, volume: string): string {
  return virsh('vol-path', '--pool', pool, volume).trim();
}

/** A file of a NoCloud seed image (through its Rock Ridge names, as Linux mounts it). */
export function isoFile(iso: string, file: string): string {
  return mustRun('isoinfo', ['-R', '-x', `/${file}`, '-i', iso]);
}

/** The volumes of the pool `pool` that are `hostname`'s NoCloud seeds (`<hostname>-seed-<hash>.iso`). */
export function seedVolumesOf(pool: string, hostname: string): string[] {
  const seed = new RegExp(`^${hostname.replace(/[.-]/g, '\\$&')}-seed-[0-9a-f]{12}\\.iso$`);
  return volumesOf(virsh('vol-list', '--pool', pool)).filter((v) => seed.test(v));
}

/**
 * The volume names of a `virsh vol-list --pool P` table (libvirt 9's vol-list has no `--name`): the first
 * column of every row below the header's dashes (a dir pool's volume names hold no spaces).
 */
export function volumesOf(table: string): string[] {
  const lines = table.split('\n');
  const rule = lines.findIndex((l) => /^-{3,}/.test(l.trim()));
  return lines
    .slice(rule + 1)
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n) => n !== undefined && n !== '');
}

/** `blkid`'s TYPE and LABEL of a file or device. */
export function blkid(file: string): { type?: string; label?: string } {
  const out = mustRun('blkid', ['-o', 'export', file]);
  return { type: /^TYPE=(.*)$/m.exec(out)?.[1], label: /^LABEL=(.*)$/m.exec(out)?.[1] };
}

/**
 * What the test image's init printed about the NoCloud seed on the serial console of `domain` (the
 * line `k8s-lab-seed: …`, scripts/test-image/init), read from the console's log on the host
 * (`logFile`, constructs/private/domain-xslt.ts); waits for it at most `timeoutMs`.
 */
export async function consoleSeedLine(domain: string, logFile: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'latin1') : '';
    // A whole line only: the console log may end in the middle of one, still being written.
    const line = /^(k8s-lab-seed: [^\n]*)\n/m.exec(log.replace(/\r/g, ''))?.[1];
    if (line !== undefined) return line;
    if (Date.now() > deadline) {
      throw new Error(`no "k8s-lab-seed:" line on ${domain}'s console within ${timeoutMs / 1000} s; the end of ${logFile}:\n${log.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

/** Host routes (main table, not the default route) that overlap the network `cidr`. */
export function hostRoutesOverlapping(cidr: string): string[] {
  const test = parseIpv4Network(cidr)!;
  return mustRun('ip', ['-4', '-o', 'route', 'show'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((dst) => dst !== '' && dst !== 'default')
    .filter((dst) => {
      const net = parseIpv4Network(dst.includes('/') ? dst : `${dst}/32`);
      return net !== undefined && overlaps(net, test);
    });
}

/** What libvirt says of a running domain: `virsh dominfo` and `virsh dumpxml`, reduced to what the tiers check. */
export interface DomainFacts {
  readonly state: string;
  readonly vcpu: number;
  readonly memoryKiB: number;
  readonly type: string;
  /** Every interface's MAC, lowercase. */
  readonly macs: readonly string[];
  /** Every interface's source network. */
  readonly networks: readonly string[];
  /** The CPU model QEMU runs: the `-cpu` argument of the domain's QEMU process (before its first comma). */
  readonly qemuCpu: string;
}

/** The `-cpu` model of the running domain `name`'s QEMU process (libvirt's pid file), or '' when it has none. */
function qemuCpuOf(name: string): string {
  const pid = fs.readFileSync(`/run/libvirt/qemu/${name}.pid`, 'utf8').trim();
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const i = argv.indexOf('-cpu');
  return i >= 0 ? argv[i + 1].split(',')[0] : '';
}

/** The facts of the domain `name`, as libvirt reports them. */
export function domainFacts(name: string): DomainFacts {
  const info = virsh('dominfo', name);
  const field = (label: string) => new RegExp(`^${label}:\\s+(.+)$`, 'm').exec(info)?.[1].trim() ?? '';
  const xml = virsh('dumpxml', name);
  return {
    state: field('State'),
    vcpu: Number(field('CPU\\(s\\)')),
    memoryKiB: Number(field('Max memory').replace(/ KiB$/, '')),
    type: /^<domain type='([^']+)'/.exec(xml)?.[1] ?? '',
    macs: [...xml.matchAll(/<mac address='([^']+)'/g)].map((m) => m[1].toLowerCase()),
    networks: [...xml.matchAll(/<source network='([^']+)'/g)].map((m) => m[1]),
    qemuCpu: qemuCpuOf(name),
  };
}
