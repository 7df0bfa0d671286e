import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ClusterPlan, DomainType, isLocalLibvirtUri, parseLibvirtUri } from '../spec';
import { VIRSH, key } from './checks';
import { CommandResult, HostReport, ImageReport, PathReport, StateReport, ownedObjectsOf, parseNames } from './host-report';
import { plannedObjects } from './planned-objects';

/** Where cdktf's local backend keeps the stack's state: `terraform.<cluster>.tfstate` in the project root. */
export function defaultStateFile(plan: ClusterPlan, rootDir: string): string {
  return path.join(rootDir, `terraform.${plan.spec.name}.tfstate`);
}

/** Options of {@link askHost}. */
export interface AskHostOptions {
  /** The cluster's Terraform state. */
  readonly stateFile: string;
  /** How long one virsh call may take. @default 30 s */
  readonly timeoutMs?: number;
  /** How long the HEAD request of an image URL may take. @default 10 s */
  readonly headTimeoutMs?: number;
}

function run(command: string, args: readonly string[], timeoutMs: number): CommandResult {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C' } });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { status: null, stdout: '', stderr: `${command} is not installed here (Debian: ${command === 'virsh' ? 'libvirt-clients' : 'iproute2'}; npm run tools installs it)` };
  if (r.error) return { status: null, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${(r.error as Error).message}` };
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Asks the host everything the checks need, read-only: libvirt through `virsh -c <uri>` (so a
 * remote URI works the same), this machine's routes and free space for a local URI, the base image
 * and the Terraform state. Creates nothing.
 */
export async function askHost(plan: ClusterPlan, options: AskHostOptions): Promise<HostReport> {
  const uri = plan.spec.libvirt.uri;
  const timeout = options.timeoutMs ?? 30_000;
  const local = isLocalLibvirtUri(parseLibvirtUri(uri)!);
  const planned = plannedObjects(plan);
  const answers: Record<string, CommandResult> = {};
  const ask = (args: readonly string[]) => (answers[key(args)] = run('virsh', ['-c', uri, ...args], timeout));

  const image = await askImage(plan.spec.image.source, options.headTimeoutMs ?? 10_000);
  const state = readState(options.stateFile);
  const poolPath = local ? askPath(planned.pool.path, uri) : undefined;
  const routes = local ? run('ip', ['-4', '-o', 'route', 'show'], timeout) : undefined;

  if (ask(VIRSH.uri).status === 0) {
    const type = plan.spec.libvirt.domainType;
    if (ask(VIRSH.domcapabilities(type)).status !== 0 && type === DomainType.KVM) ask(VIRSH.domcapabilities(DomainType.QEMU));
    ask(VIRSH.capabilities);
    ask(VIRSH.nodeinfo);
    ask(VIRSH.nodememstats);
    for (const n of parseNames(ask(VIRSH.allNetworks).stdout)) ask(VIRSH.netDumpxml(n));
    ask(VIRSH.activeNetworks);
    for (const p of parseNames(ask(VIRSH.allPools).stdout)) {
      ask(VIRSH.poolDumpxml(p));
      if (p === planned.pool.name) ask(VIRSH.volList(p));
    }
    ask(VIRSH.activePools);
    const domains = new Set(parseNames(ask(VIRSH.allDomains).stdout));
    ask(VIRSH.activeDomains);
    for (const d of planned.domains) if (domains.has(d)) ask(VIRSH.domuuid(d));
  }
  return { uri, local, virsh: answers, routes, poolPath, image, state };
}

function readState(file: string): StateReport {
  if (!fs.existsSync(file)) return { file, exists: false, owned: [] };
  try {
    return { file, exists: true, owned: ownedObjectsOf(fs.readFileSync(file, 'utf8')) };
  } catch (e) {
    return { file, exists: true, owned: [], error: (e as Error).message };
  }
}

/** The pool path on this machine: the path or its nearest existing ancestor, its type, writability and free space. */
function askPath(target: string, uri: string): PathReport {
  let existing = path.resolve(target);
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    const stat = fs.statSync(existing);
    const statfs = fs.statfsSync(existing);
    // qemu:///system's libvirtd runs as root: this process's rights say something only when it is root too.
    const asLibvirt = process.getuid?.() === 0 || parseLibvirtUri(uri)?.path === '/session';
    let writable: boolean | undefined;
    if (asLibvirt && stat.isDirectory()) {
      try {
        fs.accessSync(existing, fs.constants.W_OK);
        writable = true;
      } catch {
        writable = false;
      }
    }
    const ancestors = [];
    for (let dir = existing; ; dir = path.dirname(dir)) {
      const st = fs.statSync(dir);
      if (st.isDirectory()) ancestors.unshift({ path: dir, uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 });
      if (path.dirname(dir) === dir) break;
    }
    return { path: target, existing, isDirectory: stat.isDirectory(), writable, availableBytes: statfs.bavail * statfs.bsize, ancestors };
  } catch (e) {
    return { path: target, existing, isDirectory: false, error: (e as Error).message };
  }
}

async function askImage(source: string, timeoutMs: number): Promise<ImageReport> {
  if (source.startsWith('/')) {
    if (!fs.existsSync(source)) return { kind: 'path', path: source, exists: false, isFile: false, readable: false };
    const stat = fs.statSync(source);
    if (!stat.isFile()) return { kind: 'path', path: source, exists: true, isFile: false, readable: false };
    try {
      const fd = fs.openSync(source, 'r');
      const head = Buffer.alloc(4);
      fs.readSync(fd, head, 0, 4, 0);
      fs.closeSync(fd);
      return { kind: 'path', path: source, exists: true, isFile: true, readable: true, sizeBytes: stat.size, qcow2: head.equals(Buffer.from([0x51, 0x46, 0x49, 0xfb])) };
    } catch (e) {
      return { kind: 'path', path: source, exists: true, isFile: true, readable: false, sizeBytes: stat.size, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
    }
  }
  try {
    const res = await fetch(source, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
    const length = res.headers.get('content-length');
    return { kind: 'url', url: source, status: res.status, contentLength: length === null ? undefined : Number(length) };
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { kind: 'url', url: source, error: cause?.code ?? cause?.message ?? (e as Error).message };
  }
}
