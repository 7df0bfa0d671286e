import { ClusterPlan, DomainType, Ipv4Network, overlaps, parseIpv4Network } from '../spec';
import {
  HostReport,
  NetworkFacts,
  OwnedObject,
  PoolFacts,
  parseDomcapabilities,
  parseNames,
  parseNetworkXml,
  parseNodeinfo,
  parseNodememstats,
  parsePoolXml,
  parseQemuIdentity,
  parseRoutes,
  parseVolList,
} from './host-report';
import { CLOUD_INIT_ISO_BYTES, PlannedObjects, plannedObjects, roleFieldOf } from './planned-objects';

/** One reason the host cannot (error) or may not well (warning) hold the cluster. */
export interface Finding {
  readonly severity: 'error' | 'warning';
  /** The spec field it is about, e.g. `network.cidr`. */
  readonly field: string;
  /** That field's value (or what the plan makes of it). */
  readonly value: string;
  /** What the host has. */
  readonly host: string;
  /** What to do about it. */
  readonly fix: string;
}

/** The virsh questions a preflight asks, in order, given what it learned so far (see ask-host.ts). */
export const VIRSH = {
  uri: ['uri'],
  domcapabilities: (type: string) => ['domcapabilities', '--virttype', type],
  capabilities: ['capabilities'],
  nodeinfo: ['nodeinfo'],
  nodememstats: ['nodememstats'],
  allNetworks: ['net-list', '--all', '--name'],
  activeNetworks: ['net-list', '--name'],
  netDumpxml: (n: string) => ['net-dumpxml', n],
  allPools: ['pool-list', '--all', '--name'],
  activePools: ['pool-list', '--name'],
  poolDumpxml: (p: string) => ['pool-dumpxml', p],
  volList: (p: string) => ['vol-list', '--pool', p, '--details'],
  allDomains: ['list', '--all', '--name'],
  activeDomains: ['list', '--name'],
  domuuid: (d: string) => ['domuuid', d],
} as const;

/** The key of a virsh answer in HostReport.virsh. */
export const key = (args: readonly string[]) => args.join(' ');

const GIB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;
const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;

/**
 * The host's facts, parsed from the raw report, with what the cluster's Terraform state owns.
 * Undefined parts were not asked, or libvirt did not answer.
 */
export interface HostFacts {
  readonly connected: boolean;
  readonly connectError?: string;
  readonly cpus?: number;
  readonly memoryTotalKiB?: number;
  readonly memoryAvailableKiB?: number;
  readonly networks: readonly (NetworkFacts & { readonly active: boolean })[];
  readonly pools: readonly (PoolFacts & { readonly active: boolean })[];
  readonly domains: readonly string[];
  readonly activeDomains: readonly string[];
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() !== '').pop()?.trim() ?? '';
}

/** Parses the raw report into facts. */
export function hostFacts(report: HostReport): HostFacts {
  const ok = (args: readonly string[]) => {
    const r = report.virsh[key(args)];
    return r !== undefined && r.status === 0 ? r.stdout : undefined;
  };
  const uri = report.virsh[key(VIRSH.uri)];
  if (uri === undefined || uri.status !== 0) {
    return { connected: false, connectError: uri ? lastLine(uri.stderr) || `virsh exited ${uri.status}` : 'not asked', networks: [], pools: [], domains: [], activeDomains: [] };
  }
  const nodeinfo = parseNodeinfo(ok(VIRSH.nodeinfo) ?? '');
  const mem = parseNodememstats(ok(VIRSH.nodememstats) ?? '');
  const activeNets = new Set(parseNames(ok(VIRSH.activeNetworks) ?? ''));
  const networks = parseNames(ok(VIRSH.allNetworks) ?? '').map((n) => ({ ...parseNetworkXml(n, ok(VIRSH.netDumpxml(n)) ?? ''), active: activeNets.has(n) }));
  const activePools = new Set(parseNames(ok(VIRSH.activePools) ?? ''));
  const pools = parseNames(ok(VIRSH.allPools) ?? '').map((p) => {
    const pool = parsePoolXml(p, ok(VIRSH.poolDumpxml(p)) ?? '');
    // An inactive pool's XML says <available>0</available>: it has not looked, so that is no answer.
    const active = activePools.has(p);
    return { ...pool, active, availableBytes: active ? pool.availableBytes : undefined };
  });
  return {
    connected: true,
    cpus: nodeinfo.cpus,
    memoryTotalKiB: mem.totalKiB ?? nodeinfo.memoryKiB,
    memoryAvailableKiB: mem.availableKiB,
    networks,
    pools,
    domains: parseNames(ok(VIRSH.allDomains) ?? ''),
    activeDomains: parseNames(ok(VIRSH.activeDomains) ?? ''),
  };
}

/**
 * Does the state own this object: a resource of one of `types`, named `name`, whose provider ID is
 * this object's `id` (its UUID, or for volumes its path)? A same-named object made by anything else is not owned.
 */
function owns(state: readonly OwnedObject[], types: readonly string[], name: string, id: string | undefined, idMatches: (ownedId: string, id: string) => boolean = (a, b) => a === b): boolean {
  if (id === undefined) return false;
  return state.some((o) => types.includes(o.type) && o.name === name && idMatches(o.id, id));
}

/**
 * Everything the host reported against the plan: every finding at once. Pure: the same report
 * gives the same findings.
 */
export function preflightFindings(plan: ClusterPlan, report: HostReport): Finding[] {
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);
  const { spec } = plan;
  const planned = plannedObjects(plan);
  const facts = hostFacts(report);
  // Quoted for a shell when the URI has ? or & (qemu+ssh://…?keyfile=…&no_tty=1), so the fixes paste as they are.
  const virsh = `virsh -c ${/^[\w+:/.@%=-]+$/.test(spec.libvirt.uri) ? spec.libvirt.uri : `'${spec.libvirt.uri}'`}`;
  const owned = report.state.owned;
  const stateName = report.state.file;

  imageFindings(report, add);
  baseImageSourceFindings(plan, planned, owned, stateName, add);
  if (report.state.error) {
    add({ severity: 'warning', field: 'name', value: spec.name, host: `the Terraform state ${stateName} could not be read (${report.state.error}), so no libvirt object counts as this cluster's own`, fix: 'repair or remove the state file if it is not the state of a deployed cluster' });
  }

  if (!facts.connected) {
    add({
      severity: 'error',
      field: 'libvirt.uri',
      value: spec.libvirt.uri,
      host: `libvirt does not answer: ${facts.connectError}`,
      fix: report.local
        ? 'start libvirtd (here: bash scripts/libvirtd.sh; with systemd: systemctl start libvirtd), or set libvirt.uri to a libvirt that runs'
        : `check that the host runs libvirtd and that \`${virsh} uri\` works from here (ssh keys, user in group libvirt), or fix libvirt.uri`,
    });
    if (report.local) poolPathFindings(planned, spec.libvirt.domainType, report, facts, add);
    return findings;
  }

  domainTypeFindings(plan, report, add);
  capacityFindings(plan, facts, add);
  networkFindings(plan, planned, report, facts, owned, stateName, virsh, add);
  poolFindings(plan, planned, report, facts, owned, stateName, virsh, add);
  poolPathFindings(planned, spec.libvirt.domainType, report, facts, add);
  domainFindings(plan, planned, report, facts, owned, stateName, virsh, add);
  return findings;
}

/**
 * The deployed base image came from another `image.source`: the apply would replace it, and with it every node's
 * root disk (each is a copy-on-write layer on it), so the cluster would be lost. Asked of the state, not of libvirt.
 */
function baseImageSourceFindings(plan: ClusterPlan, planned: PlannedObjects, owned: readonly OwnedObject[], stateName: string, add: (f: Finding) => void): void {
  const deployed = owned.find((o) => o.type === 'libvirt_volume' && o.name === planned.baseVolume && o.source !== undefined);
  if (deployed === undefined || deployed.source === plan.spec.image.source) return;
  add({
    severity: 'error',
    field: 'image.source',
    value: plan.spec.image.source,
    host: `${stateName} records the base image ${planned.baseVolume} as made from ${deployed.source}; a new source replaces it, and with it every node's root disk (each is a layer on it): the cluster, etcd's data and every workload would be lost`,
    fix: `set image.source back to ${deployed.source}; or, to start the cluster over from the new image, npm run destroy first`,
  });
}

function imageFindings(report: HostReport, add: (f: Finding) => void): void {
  const image = report.image;
  if (image.kind === 'path') {
    const fix = 'download the image to that path (e.g. curl -fLo PATH https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img), or set image.source to an existing qcow2 or an http(s) URL';
    if (!image.exists) add({ severity: 'error', field: 'image.source', value: image.path, host: 'no such file on this machine (the provider reads the image here and uploads it to libvirt)', fix });
    else if (!image.isFile) add({ severity: 'error', field: 'image.source', value: image.path, host: 'not a regular file', fix });
    else if (!image.readable) add({ severity: 'error', field: 'image.source', value: image.path, host: `not readable by this user${image.error ? ` (${image.error})` : ''}`, fix: `make it readable (chmod a+r ${image.path}) or run as a user who can read it` });
    else if (image.qcow2 === false) add({ severity: 'error', field: 'image.source', value: image.path, host: 'not a qcow2 image (its first bytes are not QFI\\xfb); the base volume is declared qcow2', fix: `convert it: qemu-img convert -O qcow2 ${image.path} ${image.path.replace(/(\.\w+)?$/, '.qcow2')}, and point image.source at the result` });
  } else if (image.error !== undefined || image.status === undefined || image.status >= 400) {
    add({
      severity: 'warning',
      field: 'image.source',
      value: image.url,
      host: `a HEAD request did not reach it (${image.error ?? `HTTP ${image.status}`}); the provider downloads it during the deploy`,
      fix: 'check the URL and this machine\'s connection; offline, download the image elsewhere and set image.source to its local path',
    });
  }
}

function domainTypeFindings(plan: ClusterPlan, report: HostReport, add: (f: Finding) => void): void {
  const type = plan.spec.libvirt.domainType;
  const answer = report.virsh[key(VIRSH.domcapabilities(type))];
  if (answer === undefined) return;
  if (answer.status !== 0) {
    const qemu = report.virsh[key(VIRSH.domcapabilities(DomainType.QEMU))];
    const emulation = type === DomainType.KVM && qemu?.status === 0;
    add({
      severity: 'error',
      field: 'libvirt.domainType',
      value: type,
      host: `libvirt does not offer domain type ${type}: ${lastLine(answer.stderr)}`,
      fix: emulation
        ? 'set libvirt.domainType: qemu — it runs the cluster under emulation, about 10× slower (9–12× measured here) — or give the host a working /dev/kvm'
        : 'install QEMU on the host (Debian: qemu-system-x86) and check `virsh domcapabilities`',
    });
    return;
  }
  const { vcpuMax } = parseDomcapabilities(answer.stdout);
  if (vcpuMax === undefined) return;
  for (const [field, vcpu] of roleSizes(plan).map(([f, s]) => [f, s.vcpu] as const)) {
    if (vcpu > vcpuMax) add({ severity: 'error', field: `${field}.vcpu`, value: String(vcpu), host: `a ${type} domain may have at most ${vcpuMax} vCPUs`, fix: `set ${field}.vcpu to at most ${vcpuMax}` });
  }
}

/** Each role's (or pool's) field and size, for the roles that have nodes. */
function roleSizes(plan: ClusterPlan): [string, { vcpu: number; memoryMiB: number; count: number }][] {
  const out = new Map<string, { vcpu: number; memoryMiB: number; count: number }>();
  for (const n of plan.nodes) {
    const field = roleFieldOf(plan, n);
    const s = out.get(field) ?? { vcpu: n.vcpu, memoryMiB: n.memoryMiB, count: 0 };
    out.set(field, { ...s, count: s.count + 1 });
  }
  return [...out];
}

function capacityFindings(plan: ClusterPlan, facts: HostFacts, add: (f: Finding) => void): void {
  const roles = roleSizes(plan);
  const breakdown = (what: 'vcpu' | 'memoryMiB') => roles.map(([f, s]) => `${s.count} × ${s[what]} (${f})`).join(' + ');
  const totalMiB = plan.nodes.reduce((a, n) => a + n.memoryMiB, 0);
  const totalVcpu = plan.nodes.reduce((a, n) => a + n.vcpu, 0);
  const fields = roles.map(([f]) => f).join(', ');

  if (facts.memoryTotalKiB !== undefined) {
    const hostMiB = facts.memoryTotalKiB / 1024;
    const tooBig = roles.filter(([, s]) => s.memoryMiB > hostMiB);
    for (const [field, s] of tooBig) {
      add({ severity: 'error', field: `${field}.memoryMiB`, value: String(s.memoryMiB), host: `${mib(facts.memoryTotalKiB)} of memory in all (virsh nodememstats)`, fix: `set ${field}.memoryMiB below ${Math.floor(hostMiB)}` });
    }
    // A role whose one VM is already too big says it; the sum then says nothing more.
    if (totalMiB > hostMiB && tooBig.length === 0) {
      add({ severity: 'error', field: `${fields} (memoryMiB × count)`, value: `${breakdown('memoryMiB')} = ${totalMiB} MiB`, host: `${mib(facts.memoryTotalKiB)} of memory in all (virsh nodememstats)`, fix: 'lower memoryMiB or count of some role, or deploy to a host with more memory' });
    } else if (totalMiB <= hostMiB && facts.memoryAvailableKiB !== undefined) {
      // Only domains not yet running will take memory that is free now.
      const existing = new Set(facts.activeDomains);
      const newMiB = plan.nodes.filter((n) => !existing.has(n.hostname)).reduce((a, n) => a + n.memoryMiB, 0);
      if (newMiB > facts.memoryAvailableKiB / 1024) {
        add({ severity: 'warning', field: `${fields} (memoryMiB × count)`, value: `${newMiB} MiB for the VMs not running yet`, host: `${mib(facts.memoryAvailableKiB)} free or reclaimable now (free + buffers + cached) of ${mib(facts.memoryTotalKiB)}`, fix: 'stop other VMs or programs first, or lower memoryMiB; otherwise the host swaps or its OOM killer stops VMs' });
      }
    }
  }
  if (facts.cpus !== undefined) {
    for (const [field, s] of roles) {
      if (s.vcpu > facts.cpus) add({ severity: 'warning', field: `${field}.vcpu`, value: String(s.vcpu), host: `${facts.cpus} CPUs (virsh nodeinfo): each such VM has more vCPUs than the host has CPUs`, fix: `set ${field}.vcpu to at most ${facts.cpus}` });
    }
    if (totalVcpu > facts.cpus) {
      add({ severity: 'warning', field: `${fields} (vcpu × count)`, value: `${breakdown('vcpu')} = ${totalVcpu} vCPUs`, host: `${facts.cpus} CPUs (virsh nodeinfo): the VMs share them (${(totalVcpu / facts.cpus).toFixed(1)}× overcommitted)`, fix: 'fine for a lab; under load, lower vcpu or counts' });
    }
  }
}

function networkFindings(plan: ClusterPlan, planned: PlannedObjects, report: HostReport, facts: HostFacts, owned: readonly OwnedObject[], stateName: string, virsh: string, add: (f: Finding) => void): void {
  const ours = parseIpv4Network(plan.network.cidr)!;
  const same = facts.networks.find((n) => n.name === planned.network);
  const ownNetwork = same !== undefined && owns(owned, ['libvirt_network'], same.name, same.uuid);
  if (same && !ownNetwork) {
    add({
      severity: 'error',
      field: 'name',
      value: plan.spec.name,
      host: `libvirt network ${same.name} already exists (${same.active ? 'active' : 'inactive'}${same.cidrs.length ? `, ${same.cidrs.join(', ')}` : ''}), and ${stateName} does not own it`,
      fix: `remove it if it is a leftover: ${same.active ? `${virsh} net-destroy ${same.name}; ` : ''}${virsh} net-undefine ${same.name} — or choose another name`,
    });
  }
  const taken: Ipv4Network[] = [];
  for (const n of facts.networks) {
    if (n.name === planned.network && ownNetwork) continue;
    for (const c of n.cidrs) {
      const net = parseIpv4Network(c);
      if (!net) continue;
      taken.push(net);
      if (!overlaps(net, ours)) continue;
      add({
        severity: n.active ? 'error' : 'warning',
        field: 'network.cidr',
        value: plan.network.cidr,
        host: `libvirt network ${n.name} (${n.active ? 'active' : 'inactive: the two cannot run at once'}) has ${c}`,
        fix: `choose a network.cidr that overlaps no other network${suggestion(plan, taken, facts, report)}, or remove ${n.name} (${n.active ? `${virsh} net-destroy ${n.name}; ` : ''}${virsh} net-undefine ${n.name})`,
      });
    }
  }
  if (!report.routes) {
    add({ severity: 'warning', field: 'network.cidr', value: plan.network.cidr, host: `host routes not checked: libvirt at ${plan.spec.libvirt.uri} runs on another machine, and libvirt does not report its routes`, fix: 'check by hand there: ip -4 route | grep the network; libvirt refuses to start a network that a route already covers' });
    return;
  }
  const libvirtBridges = new Set(facts.networks.map((n) => n.bridge).filter((b): b is string => b !== undefined));
  for (const r of parseRoutes(report.routes.stdout)) {
    const net = parseIpv4Network(r.destination);
    if (!net || !overlaps(net, ours)) continue;
    // A libvirt network's own route is reported as that network (or is ours from an earlier deploy).
    if (r.dev !== undefined && libvirtBridges.has(r.dev)) continue;
    add({
      severity: 'error',
      field: 'network.cidr',
      value: plan.network.cidr,
      host: `a host route covers it: ${r.line}`,
      fix: `choose a network.cidr that no route covers${suggestion(plan, [...taken, net], facts, report)}; libvirt would refuse to start the network`,
    });
  }
}

/** `, e.g. X` with the first private network of the spec's size that nothing on the host overlaps. */
function suggestion(plan: ClusterPlan, taken: readonly Ipv4Network[], facts: HostFacts, report: HostReport): string {
  const prefix = plan.network.prefixLength;
  const busy = [...taken];
  for (const n of facts.networks) for (const c of n.cidrs) busy.push(...[parseIpv4Network(c)].filter((x): x is Ipv4Network => x !== undefined));
  for (const r of report.routes ? parseRoutes(report.routes.stdout) : []) busy.push(...[parseIpv4Network(r.destination)].filter((x): x is Ipv4Network => x !== undefined));
  for (const c of [plan.spec.kubernetes.podCidr, plan.spec.kubernetes.serviceCidr]) busy.push(parseIpv4Network(c)!);
  const size = 2 ** (32 - prefix);
  for (const [start, end] of [[0xc0a80000, 0xc0a8ffff], [0xac100000, 0xac1fffff], [0x0a000000, 0x0affffff]]) {
    for (let base = start, i = 0; base + size - 1 <= end && i < 4096; base += size, i++) {
      const cidr = `${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/${prefix}`;
      const net = parseIpv4Network(cidr)!;
      if (!busy.some((b) => overlaps(b, net))) return `, e.g. ${cidr}`;
    }
  }
  return '';
}

function poolFindings(plan: ClusterPlan, planned: PlannedObjects, report: HostReport, facts: HostFacts, owned: readonly OwnedObject[], stateName: string, virsh: string, add: (f: Finding) => void): void {
  const removePool = (p: PoolFacts & { active: boolean }) => `${virsh} pool-destroy ${p.name} (if active); delete its volumes (${virsh} vol-list ${p.name}, then vol-delete --pool ${p.name} NAME); ${virsh} pool-undefine ${p.name}`;
  for (const p of facts.pools) {
    if (p.name === planned.pool.name) {
      if (!owns(owned, ['libvirt_pool'], p.name, p.uuid)) {
        add({ severity: 'error', field: 'name', value: plan.spec.name, host: `storage pool ${p.name} already exists (${p.active ? 'active' : 'inactive'}, at ${p.path ?? '?'}), and ${stateName} does not own it`, fix: `remove it if it is a leftover: ${removePool(p)} — or choose another name` });
      } else {
        volumeFindings(plan, planned, report, p, owned, stateName, virsh, add);
      }
    } else if (p.path !== undefined && samePath(p.path, planned.pool.path)) {
      add({ severity: 'error', field: 'libvirt.poolPath', value: planned.pool.path, host: `storage pool ${p.name} already uses that directory (libvirt allows one pool per path)`, fix: `choose another libvirt.poolPath, or remove pool ${p.name}: ${removePool(p)}` });
    }
  }
}

function samePath(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function volumeFindings(plan: ClusterPlan, planned: PlannedObjects, report: HostReport, pool: PoolFacts, owned: readonly OwnedObject[], stateName: string, virsh: string, add: (f: Finding) => void): void {
  const listing = report.virsh[key(VIRSH.volList(pool.name))];
  if (!listing || listing.status !== 0) return;
  for (const v of parseVolList(listing.stdout)) {
    const ours = v.name === planned.baseVolume || planned.nodeVolumePrefixes.some((p) => v.name.startsWith(p));
    if (!ours) continue;
    if (owns(owned, ['libvirt_volume', 'libvirt_cloudinit_disk'], v.name, v.path, (id, path) => id === path || id.startsWith(`${path};`))) continue;
    add({ severity: 'error', field: 'name', value: plan.spec.name, host: `volume ${v.name} is in pool ${pool.name}, and ${stateName} does not own it (a deploy that was stopped half-way leaves such volumes)`, fix: `remove it: ${virsh} vol-delete --pool ${pool.name} ${v.name}` });
  }
}

function poolPathFindings(planned: PlannedObjects, domainType: string, report: HostReport, facts: HostFacts, add: (f: Finding) => void): void {
  const path = planned.pool.path;
  const own = facts.pools.find((p) => p.name === planned.pool.name);
  const volumes = own ? parseVolList(report.virsh[key(VIRSH.volList(own.name))]?.stdout ?? '') : [];
  const existing = new Map(volumes.map((v) => [v.name, v] as const));
  // qcow2 grows on write: count every disk at its full size, less what it already holds.
  let needed = planned.disks.reduce((a, d) => a + Math.max(0, d.sizeBytes - (existing.get(d.name)?.allocationBytes ?? 0)), 0);
  needed += planned.domains.length * CLOUD_INIT_ISO_BYTES;
  const image = report.image;
  const imageBytes = image.kind === 'path' ? image.sizeBytes : image.contentLength;
  if (!existing.has(planned.baseVolume) && imageBytes !== undefined) needed += imageBytes;
  const what = `${planned.disks.length} disks at full size${imageBytes !== undefined && !existing.has(planned.baseVolume) ? ' + the base image' : ''} + cloud-init ISOs`;

  let available: number | undefined;
  let where = '';
  if (own?.availableBytes !== undefined) {
    available = own.availableBytes;
    where = `pool ${own.name} reports ${gib(available)} available`;
  } else if (report.poolPath) {
    const p = report.poolPath;
    if (p.error !== undefined) {
      add({ severity: 'error', field: 'libvirt.poolPath', value: path, host: `cannot inspect ${p.existing}: ${p.error}`, fix: 'choose a libvirt.poolPath on a local file system' });
      return;
    }
    if (!p.isDirectory) {
      add({ severity: 'error', field: 'libvirt.poolPath', value: path, host: `${p.existing} exists and is not a directory`, fix: 'choose a libvirt.poolPath under a directory' });
      return;
    }
    if (p.writable === false) {
      add({ severity: 'error', field: 'libvirt.poolPath', value: path, host: `${p.existing} is not writable, so libvirt cannot create ${p.existing === path ? 'volumes in it' : path}`, fix: 'choose a writable libvirt.poolPath (not on a read-only file system)' });
    }
    qemuReachFindings(planned, domainType, report, add);
    available = p.availableBytes;
    where = `the file system of ${p.existing} has ${available === undefined ? '?' : gib(available)} free`;
  } else {
    // Remote: the pool directory is on that host. Another pool at a parent directory tells its file system's room.
    const parent = facts.pools
      .filter((p) => p.path !== undefined && p.availableBytes !== undefined && (path === p.path || path.startsWith(`${p.path.replace(/\/+$/, '')}/`)))
      .sort((a, b) => b.path!.length - a.path!.length)[0];
    if (parent) {
      available = parent.availableBytes;
      where = `pool ${parent.name} at ${parent.path}, a parent directory (probably the same file system), reports ${gib(available!)} available`;
    }
  }
  if (available === undefined) {
    add({ severity: 'warning', field: 'libvirt.poolPath', value: path, host: 'free space not checked: libvirt runs on another machine and no pool of it reports the file system of that path', fix: `check by hand there: df -h ${path} (needs ${gib(needed)} for ${what})` });
    return;
  }
  if (needed > available) {
    add({ severity: 'error', field: 'libvirt.poolPath', value: path, host: `${where}; the plan needs ${gib(needed)} (${what})`, fix: 'choose a libvirt.poolPath on a larger file system, free space there, or lower diskGiB or counts' });
  }
}

/**
 * QEMU runs as libvirt's DAC identity (`virsh capabilities`), not as root: it must be able to search
 * every directory above the pool, or the VMs fail to open their disks ("Permission denied"). libvirt
 * makes the pool directory itself (0711) and hands each volume to QEMU, but not the parents.
 */
function qemuReachFindings(planned: PlannedObjects, domainType: string, report: HostReport, add: (f: Finding) => void): void {
  const caps = report.virsh[key(VIRSH.capabilities)];
  const who = caps?.status === 0 ? parseQemuIdentity(caps.stdout, domainType) : undefined;
  if (!who || who.uid === 0) return;
  for (const dir of report.poolPath?.ancestors ?? []) {
    const bit = dir.uid === who.uid ? 0o100 : dir.gid === who.gid ? 0o010 : 0o001;
    if ((dir.mode & bit) !== 0) continue;
    add({
      severity: 'error',
      field: 'libvirt.poolPath',
      value: planned.pool.path,
      host: `QEMU runs as uid ${who.uid}, gid ${who.gid} (libvirt's DAC label, virsh capabilities) and may not enter ${dir.path} (mode ${dir.mode.toString(8).padStart(4, '0')}, owner ${dir.uid}:${dir.gid}); the VMs would fail to open their disks with "Permission denied"`,
      fix: `let it through (chmod o+x ${dir.path}), or choose a libvirt.poolPath QEMU can reach, e.g. under /var/lib/libvirt/images`,
    });
    return;
  }
}

function domainFindings(plan: ClusterPlan, planned: PlannedObjects, report: HostReport, facts: HostFacts, owned: readonly OwnedObject[], stateName: string, virsh: string, add: (f: Finding) => void): void {
  const present = new Set(facts.domains);
  const active = new Set(facts.activeDomains);
  for (const name of planned.domains) {
    if (!present.has(name)) continue;
    const answer = report.virsh[key(VIRSH.domuuid(name))];
    const uuid = answer?.status === 0 ? answer.stdout.trim() : undefined;
    if (owns(owned, ['libvirt_domain'], name, uuid)) continue;
    add({
      severity: 'error',
      field: 'name',
      value: plan.spec.name,
      host: `domain ${name} already exists (${active.has(name) ? 'running' : 'shut off'}), and ${stateName} does not own it`,
      fix: `remove it if it is a leftover: ${active.has(name) ? `${virsh} destroy ${name}; ` : ''}${virsh} undefine ${name} — or choose another name`,
    });
  }
}

/** Findings as the user reads them: errors first, each with field, value, host and fix. */
export function formatFindings(plan: ClusterPlan, findings: readonly Finding[]): string {
  const errors = findings.filter((f) => f.severity === 'error');
  const warnings = findings.filter((f) => f.severity === 'warning');
  const lines = [`preflight of cluster ${plan.spec.name} at ${plan.spec.libvirt.uri}: ${errors.length} error(s), ${warnings.length} warning(s)`];
  for (const f of [...errors, ...warnings]) {
    lines.push(`  ${f.severity.toUpperCase()} ${f.field}: ${f.value}`, `      host: ${f.host}`, `      fix:  ${f.fix}`);
  }
  return lines.join('\n');
}
