/**
 * What the host reported, as it reported it: raw `virsh` output (kept verbatim, so unit tests run on
 * fixtures of real output), plus the few facts libvirt does not give (routes and free space on this
 * machine, the base image, the Terraform state). Plain JSON, so a run can be recorded.
 */

/** How one command ended and what it printed. */
export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The pool path on this machine (local URIs only): its nearest existing ancestor and that file system's room. */
export interface PathReport {
  readonly path: string;
  /** The path itself when it exists, else its nearest existing ancestor. */
  readonly existing: string;
  readonly isDirectory: boolean;
  /** undefined when not asked (libvirtd runs as root and this process does not). */
  readonly writable?: boolean;
  readonly availableBytes?: number;
  /** Every existing directory from / down to `existing`, with its owner and mode (who may search it). */
  readonly ancestors?: readonly { readonly path: string; readonly uid: number; readonly gid: number; readonly mode: number }[];
  readonly error?: string;
}

/** The base image source as this machine sees it (the provider reads it from here, also for remote URIs). */
export type ImageReport =
  | {
      readonly kind: 'path';
      readonly path: string;
      readonly exists: boolean;
      readonly isFile: boolean;
      readonly readable: boolean;
      readonly sizeBytes?: number;
      /** The first bytes are qcow2's magic `QFI\xfb`. */
      readonly qcow2?: boolean;
      readonly error?: string;
    }
  | { readonly kind: 'url'; readonly url: string; readonly status?: number; readonly contentLength?: number; readonly error?: string };

/** A libvirt object the cluster's Terraform state records. */
export interface OwnedObject {
  /** Terraform resource type, e.g. libvirt_domain. */
  readonly type: string;
  readonly name: string;
  /** The provider's ID: a UUID for domains, networks and pools; the volume's path for volumes (`path;uuid` for cloud-init disks). */
  readonly id: string;
  /** What a volume was made from (its `source`: a URL or a path), when the state records one. */
  readonly source?: string;
}

/** The cluster's Terraform state, reduced to the libvirt objects it owns (nothing secret is kept). */
export interface StateReport {
  readonly file: string;
  readonly exists: boolean;
  readonly owned: readonly OwnedObject[];
  readonly error?: string;
}

/** Everything a preflight asked. */
export interface HostReport {
  readonly uri: string;
  /** Whether libvirt runs on this machine (no host in the URI): routes and free space were read here. */
  readonly local: boolean;
  /** `virsh -c <uri> ARGS` answers, keyed by ARGS joined with spaces, e.g. `net-dumpxml default`. */
  readonly virsh: Readonly<Record<string, CommandResult>>;
  /** `ip -4 -o route show` on this machine; undefined for a remote URI. */
  readonly routes?: CommandResult;
  /** The pool path on this machine; undefined for a remote URI. */
  readonly poolPath?: PathReport;
  readonly image: ImageReport;
  readonly state: StateReport;
}

/**
 * Reduces a Terraform state document to the libvirt objects it owns. An empty file owns nothing:
 * synth creates the state file empty (0600, before Terraform's first run), and Terraform reads it as no state.
 */
export function ownedObjectsOf(stateJson: string): OwnedObject[] {
  if (stateJson.trim() === '') return [];
  const doc = JSON.parse(stateJson) as { resources?: { type?: string; mode?: string; instances?: { attributes?: { id?: unknown; name?: unknown; source?: unknown } }[] }[] };
  const owned: OwnedObject[] = [];
  for (const r of doc.resources ?? []) {
    if (r.mode !== undefined && r.mode !== 'managed') continue;
    if (typeof r.type !== 'string' || !r.type.startsWith('libvirt_')) continue;
    for (const i of r.instances ?? []) {
      const { id, name, source } = i.attributes ?? {};
      if (typeof id === 'string' && typeof name === 'string') owned.push({ type: r.type, name, id, ...(typeof source === 'string' && source !== '' ? { source } : {}) });
    }
  }
  return owned;
}

// ---------------------------------------------------------------------------------------------
// Parsers of virsh output (pure)

/** Names from `virsh … --name` (one per line). */
export function parseNames(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** `virsh nodeinfo`: CPUs and the memory size it reports. */
export function parseNodeinfo(stdout: string): { cpus?: number; memoryKiB?: number } {
  const cpus = /^CPU\(s\):\s+(\d+)/m.exec(stdout)?.[1];
  const mem = /^Memory size:\s+(\d+) KiB/m.exec(stdout)?.[1];
  return { cpus: cpus === undefined ? undefined : Number(cpus), memoryKiB: mem === undefined ? undefined : Number(mem) };
}

/** `virsh nodememstats`: total, and what is free or reclaimable (free + buffers + cached), in KiB. */
export function parseNodememstats(stdout: string): { totalKiB?: number; availableKiB?: number } {
  const field = (name: string) => {
    const m = new RegExp(`^${name}\\s*:\\s+(\\d+) KiB`, 'm').exec(stdout);
    return m ? Number(m[1]) : undefined;
  };
  const [total, free, buffers, cached] = ['total', 'free', 'buffers', 'cached'].map(field);
  return { totalKiB: total, availableKiB: free === undefined ? undefined : free + (buffers ?? 0) + (cached ?? 0) };
}

/** `virsh domcapabilities`: the most vCPUs one domain may have. */
export function parseDomcapabilities(stdout: string): { domain?: string; vcpuMax?: number } {
  const vcpu = /<vcpu max='(\d+)'\/>/.exec(stdout)?.[1];
  return { domain: /<domain>([^<]+)<\/domain>/.exec(stdout)?.[1], vcpuMax: vcpu === undefined ? undefined : Number(vcpu) };
}

/**
 * `virsh capabilities`: the uid and gid libvirt's DAC driver runs QEMU processes as, for a domain
 * type (`<baselabel type='kvm'>+64055:+64055</baselabel>`); undefined when it reports none.
 */
export function parseQemuIdentity(capabilities: string, domainType: string): { uid: number; gid: number } | undefined {
  const m = new RegExp(`<baselabel type='${domainType}'>\\+?(\\d+):\\+?(\\d+)</baselabel>`).exec(capabilities);
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : undefined;
}

/** A libvirt network, from `virsh net-dumpxml`. */
export interface NetworkFacts {
  readonly name: string;
  readonly uuid?: string;
  readonly bridge?: string;
  /** Its IPv4 networks in CIDR notation. */
  readonly cidrs: readonly string[];
}

/** Netmask (255.255.255.0) to prefix length; undefined when not a contiguous mask. */
function prefixOfNetmask(mask: string): number | undefined {
  const octets = mask.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return undefined;
  const bits = octets.map((o) => o.toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}

/** The network address of `ip`/`prefix`, as CIDR. */
function cidrOf(ip: string, prefix: number): string | undefined {
  const o = ip.split('.').map(Number);
  if (o.length !== 4 || o.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return undefined;
  const n = (((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3]) >>> 0;
  const base = prefix === 0 ? 0 : (n & (~0 << (32 - prefix))) >>> 0;
  return `${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/${prefix}`;
}

export function parseNetworkXml(name: string, xml: string): NetworkFacts {
  const cidrs: string[] = [];
  for (const m of xml.matchAll(/<ip\b([^>]*)>/g)) {
    const attrs = m[1];
    const family = /family='([^']+)'/.exec(attrs)?.[1];
    if (family !== undefined && family !== 'ipv4') continue;
    const address = /address='([^']+)'/.exec(attrs)?.[1];
    const netmask = /netmask='([^']+)'/.exec(attrs)?.[1];
    const prefix = /prefix='(\d+)'/.exec(attrs)?.[1];
    const len = prefix !== undefined ? Number(prefix) : netmask !== undefined ? prefixOfNetmask(netmask) : undefined;
    if (address === undefined || len === undefined || address.includes(':')) continue;
    const cidr = cidrOf(address, len);
    if (cidr) cidrs.push(cidr);
  }
  return { name, uuid: /<uuid>([^<]+)<\/uuid>/.exec(xml)?.[1], bridge: /<bridge name='([^']+)'/.exec(xml)?.[1], cidrs };
}

/** A storage pool, from `virsh pool-dumpxml`. */
export interface PoolFacts {
  readonly name: string;
  readonly uuid?: string;
  readonly type?: string;
  readonly path?: string;
  /** Bytes free on the pool's file system (libvirt reports it for active pools). */
  readonly availableBytes?: number;
}

export function parsePoolXml(name: string, xml: string): PoolFacts {
  const available = /<available unit='bytes'>(\d+)<\/available>/.exec(xml)?.[1];
  return {
    name,
    uuid: /<uuid>([^<]+)<\/uuid>/.exec(xml)?.[1],
    type: /<pool type='([^']+)'/.exec(xml)?.[1],
    path: /<target>\s*<path>([^<]+)<\/path>/.exec(xml)?.[1],
    availableBytes: available === undefined ? undefined : Number(available),
  };
}

/** A volume, from `virsh vol-list --details`. */
export interface VolumeFacts {
  readonly name: string;
  readonly path: string;
  readonly capacityBytes?: number;
  readonly allocationBytes?: number;
}

const UNITS: Record<string, number> = { B: 1, bytes: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4, PiB: 1024 ** 5 };

/** `virsh vol-list --pool P --details`: name, path, capacity and allocation (rounded as virsh prints them). */
export function parseVolList(stdout: string): VolumeFacts[] {
  const vols: VolumeFacts[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\S+)\s+(\/\S*)\s+\S+\s+([\d.]+)\s+(\S+)\s+([\d.]+)\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const size = (n: string, u: string) => (UNITS[u] === undefined ? undefined : Math.round(Number(n) * UNITS[u]));
    vols.push({ name: m[1], path: m[2], capacityBytes: size(m[3], m[4]), allocationBytes: size(m[5], m[6]) });
  }
  return vols;
}

/** One IPv4 route of `ip -4 -o route show`: its destination (CIDR) and device. */
export interface RouteFacts {
  readonly destination: string;
  readonly dev?: string;
  readonly line: string;
}

export function parseRoutes(stdout: string): RouteFacts[] {
  const routes: RouteFacts[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const words = line.split(/\s+/);
    // Route types come first when not unicast (`broadcast`, `local`, `unreachable` …): those are not the main table's.
    let dst = words[0];
    if (['unicast', 'blackhole', 'unreachable', 'prohibit', 'throw'].includes(dst)) dst = words[1];
    if (dst === undefined || dst === 'default' || !/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst)) continue;
    const dev = /\bdev (\S+)/.exec(line)?.[1];
    routes.push({ destination: dst.includes('/') ? dst : `${dst}/32`, dev, line });
  }
  return routes;
}
