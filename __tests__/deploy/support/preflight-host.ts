/**
 * The preflight's deploy-tier cases: each makes one problem real on the shared libvirtd (a network
 * holding the CIDR, a pool path on a small tmpfs, a leftover domain …), runs the real
 * `npm run preflight` against it, and removes what it made. Everything it makes is named
 * `k8s-lab-pf…` and uses 10.213.9.0/24–10.213.12.0/24, and only those objects are ever removed.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ClusterSpecInput, DomainType } from '../../../spec';
import { makeRunDir, removeRunDirsOfDeadRuns } from '../../support/run-dirs';
import { ROOT } from '../../support/tools';

export const URI = 'qemu:///system';
/** Every libvirt object this file's tests make starts with this. */
export const PF_PREFIX = 'k8s-lab-pf';
/** The cluster the preflight is asked about. */
export const PF_CLUSTER = 'k8s-lab-pf';
export const PF_CIDR = '10.213.9.0/24';
/** The CIDR the "network already there" case gives to a libvirt network of its own. */
export const PF_TAKEN_CIDR = '10.213.10.0/24';
export const PF_OTHER_NETWORK = 'k8s-lab-pf-other-net';

/** Where recorded host reports become the unit tier's fixtures (PREFLIGHT_RECORD_FIXTURES=1). */
export const FIXTURES_DIR = path.join(ROOT, '__tests__', 'fixtures', 'preflight');

export interface Virsh {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `virsh -c qemu:///system ARGS`, whatever it exits with. */
export function virsh(...args: string[]): Virsh {
  const r = spawnSync('virsh', ['-c', URI, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `virsh ARGS`, throwing with its output unless it succeeds. */
export function mustVirsh(...args: string[]): string {
  const r = virsh(...args);
  if (r.status !== 0) throw new Error(`virsh ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const ours = (name: string) => name.startsWith(PF_PREFIX);
const names = (out: string) => out.split('\n').map((l) => l.trim()).filter((l) => l !== '');

/** libvirt's lists, reduced to this file's objects: what "nothing was created" compares. */
export function pfObjects(): { domains: string[]; networks: string[]; pools: string[]; volumes: string[] } {
  const pools = names(mustVirsh('pool-list', '--all', '--name')).filter(ours);
  return {
    domains: names(mustVirsh('list', '--all', '--name')).filter(ours).sort(),
    networks: names(mustVirsh('net-list', '--all', '--name')).filter(ours).sort(),
    pools: pools.sort(),
    volumes: pools.flatMap((p) => names(virsh('vol-list', '--pool', p, '--name').stdout).map((v) => `${p}/${v}`)).sort(),
  };
}

/** Removes every domain, network and pool named `k8s-lab-pf…` (this file's only). */
export function removePfObjects(): void {
  for (const d of names(mustVirsh('list', '--all', '--name')).filter(ours)) {
    virsh('destroy', d);
    virsh('undefine', d);
  }
  for (const n of names(mustVirsh('net-list', '--all', '--name')).filter(ours)) {
    virsh('net-destroy', n);
    virsh('net-undefine', n);
  }
  for (const p of names(mustVirsh('pool-list', '--all', '--name')).filter(ours)) {
    for (const v of names(virsh('vol-list', '--pool', p, '--name').stdout)) virsh('vol-delete', '--pool', p, v);
    virsh('pool-destroy', p);
    virsh('pool-undefine', p);
  }
}

/**
 * A scratch directory for one run: spec files, the base image, a tmpfs mount point. A killed run's (its tmpfs still
 * mounted) is removed first.
 */
export function makeWorkDir(): string {
  removeRunDirsOfDeadRuns('k8s-lab-pf-');
  const dir = makeRunDir('k8s-lab-pf-', 'preflight');
  // makeRunDir makes it 0700; QEMU (not root) must be able to pass through to a pool below it.
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** A small real qcow2 (qemu-img), as the base image. */
export function makeImage(dir: string): string {
  const image = path.join(dir, 'base.qcow2');
  const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '64M'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img create failed: ${r.stderr}${r.error ?? ''}`);
  return image;
}

/** The smallest cluster with one of each role but workers: it fits this machine. */
export function pfSpec(dir: string, image: string, overrides: Partial<ClusterSpecInput> = {}): ClusterSpecInput {
  return {
    name: PF_CLUSTER,
    libvirt: { uri: URI, poolPath: path.join(dir, 'pool'), domainType: DomainType.QEMU },
    image: { source: image },
    network: { cidr: PF_CIDR, domain: 'pf.k8s-lab.test' },
    controlPlane: { count: 1, vcpu: 2, memoryMiB: 1700, diskGiB: 5 },
    workerPools: [],
    loadBalancer: { count: 1, vcpu: 1, memoryMiB: 512, diskGiB: 5 },
    ...overrides,
  };
}

export interface PreflightRun {
  readonly status: number | null;
  readonly output: string;
  /** What the host reported (the `--record` file). */
  readonly report: unknown;
}

/**
 * Runs `npm run preflight` (scripts/preflight.ts) on `doc`, with a state file in `dir` (none
 * exists unless the test writes one). With PREFLIGHT_RECORD_FIXTURES=1 the host report becomes
 * the unit tier's fixture `<fixture>.json`.
 */
export function runPreflight(dir: string, doc: ClusterSpecInput, fixture: string, options: { netns?: string } = {}): PreflightRun {
  const spec = path.join(dir, `${fixture}.yaml`);
  const record = path.join(dir, `${fixture}.report.json`);
  fs.writeFileSync(spec, YAML.stringify(doc));
  const env = { ...process.env, CLUSTER_CONFIG: spec, npm_config_update_notifier: 'false' };
  const command = ['npm', 'run', '--silent', 'preflight', '--', '--state', path.join(dir, 'terraform.tfstate'), '--record', record];
  // In a network namespace of the test's own: its routes are the host routes the preflight reads.
  const argv = options.netns ? ['nsenter', `--net=/run/netns/${options.netns}`, ...command] : command;
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, env, encoding: 'utf8', timeout: 180_000 });
  if (r.error) throw r.error;
  const report = fs.existsSync(record) ? JSON.parse(fs.readFileSync(record, 'utf8')) : undefined;
  if (process.env.PREFLIGHT_RECORD_FIXTURES === '1' && report !== undefined) {
    fs.mkdirSync(FIXTURES_DIR, { recursive: true });
    fs.writeFileSync(path.join(FIXTURES_DIR, `${fixture}.json`), `${JSON.stringify({ spec: doc, report }, null, 2)}\n`);
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}`, report };
}

/** The network namespace the host-route case makes, and the route it puts there. */
export const PF_NETNS = 'k8s-lab-pf-ns';
export const PF_ROUTED_CIDR = '10.213.12.0/24';

/** Runs `ip ARGS`, throwing with its output unless it succeeds. */
function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}${r.error ?? ''}`);
}

/**
 * Makes PF_NETNS with a veth pair whose address gives it a kernel route for PF_ROUTED_CIDR. The
 * route exists only in that namespace; the host's own routing is not touched.
 */
export function makeRoutedNetns(): void {
  ip('netns', 'add', PF_NETNS);
  ip('-n', PF_NETNS, 'link', 'add', 'k8s-lab-pf-a', 'type', 'veth', 'peer', 'name', 'k8s-lab-pf-b');
  ip('-n', PF_NETNS, 'addr', 'add', '10.213.12.1/24', 'dev', 'k8s-lab-pf-a');
  ip('-n', PF_NETNS, 'link', 'set', 'k8s-lab-pf-a', 'up');
  ip('-n', PF_NETNS, 'link', 'set', 'k8s-lab-pf-b', 'up');
}

/** Removes PF_NETNS (and its veth pair) if it exists. */
export function removeRoutedNetns(): void {
  if (fs.existsSync(`/run/netns/${PF_NETNS}`)) ip('netns', 'del', PF_NETNS);
}

/** Mounts a tmpfs of `size` (e.g. 64m) at a new directory under `dir`; returns the mount point. */
export function mountTmpfs(dir: string, size: string): string {
  const point = path.join(dir, 'small');
  fs.mkdirSync(point);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', point], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount -t tmpfs failed (the deploy tier runs as root): ${r.stderr}${r.error ?? ''}`);
  return point;
}

/** Unmounts `point` if it is mounted. */
export function unmount(point: string): void {
  if (fs.existsSync(point) && fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === point)) {
    const r = spawnSync('umount', [point], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`umount ${point} failed: ${r.stderr}`);
  }
}

/** The smallest domain libvirt will define (never started): a name, memory, one vCPU, an OS type. */
export function domainXml(name: string): string {
  return `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>\n`;
}

/** A NAT network on `cidr` (its gateway .1), named `name`. */
export function networkXml(name: string, cidr: string): string {
  const base = cidr.split('/')[0].split('.').slice(0, 3).join('.');
  return `<network><name>${name}</name><forward mode='nat'/><ip address='${base}.1' netmask='255.255.255.0'/></network>\n`;
}
