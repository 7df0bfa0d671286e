import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { pollUntil } from '../../../host/poll-until';
import { everyStep } from '../../support/every-step';
import { processIsGone } from '../../support/processes';
import { unmountUnder } from '../../support/run-dirs';
import { namespacesOfDeadRuns } from '../../support/stale-namespaces';
import { TOOL_PATH } from '../../support/tools';

/** What a command printed and how it ended. */
export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of a command run to completion. */
export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Debian's docker client, the same release as the daemon (a newer client elsewhere on PATH would do too). */
const DOCKER_CLIENT = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const env = () => ({ ...process.env, PATH: TOOL_PATH });

/** Runs a command to completion, asynchronously (the event loop keeps serving timers and other probes). */
export function runAsync(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...env(), ...options.env }, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    // A command that ends (or closes its stdin) before reading its input makes the write fail with EPIPE,
    // e.g. `docker exec` into a container that is not running yet: its exit status and output say what
    // happened, so that is the result, not an exception (which failed a wait that would have asked again).
    child.stdin.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') reject(e);
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * A Docker daemon of the test's own, inside a network namespace the test creates: every bridge,
 * container address and packet of the end-to-end tier lives in that namespace, which has no link
 * to the host's network at all. dockerd is started with `nsenter --net` (not `ip netns exec`,
 * which remounts /sys and hides the cgroup mounts from dockerd), with its own socket, exec root and
 * pid file. Its data root is kept between runs (outside the clone) so the imported node image
 * survives; containers, networks and volumes the tier makes are removed by `stop()`.
 */
export class DockerInNetns {
  readonly netns: string;
  readonly socket: string;
  private daemon?: ChildProcess;
  private daemonLog: string[] = [];
  private readonly execRoot: string;

  private constructor(
    readonly name: string,
    readonly dataRoot: string,
  ) {
    this.netns = `${name}-${process.pid}`;
    this.execRoot = `/run/${this.netns}`;
    this.socket = `${this.execRoot}/docker.sock`;
  }

  /** Creates the namespace and starts dockerd in it; waits (bounded) until it answers. */
  static async start(name: string, dataRoot: string): Promise<DockerInNetns> {
    if (!/^[a-z0-9-]{1,24}$/.test(name)) throw new Error(`lab name must be 1 to 24 of a-z, 0-9, '-', got ${JSON.stringify(name)}`);
    for (const tool of ['dockerd', 'nsenter', 'ip']) {
      if (spawnSync('bash', ['-c', 'command -v "$1"', 'bash', tool], { env: env() }).status !== 0) throw new Error(`'${tool}' is not installed; run 'npm run tools'`);
    }
    const lab = new DockerInNetns(name, dataRoot);
    lab.lock();
    try {
      removeStaleNamespaces(name);
      lab.must('ip', ['netns', 'add', lab.netns]);
    } catch (e) {
      lab.unlock();
      throw e;
    }
    try {
      lab.must('ip', ['-n', lab.netns, 'link', 'set', 'lo', 'up']);
      fs.mkdirSync(lab.execRoot, { recursive: true, mode: 0o700 });
      fs.mkdirSync(dataRoot, { recursive: true, mode: 0o700 });
      const child = spawn(
        'nsenter',
        [`--net=/run/netns/${lab.netns}`, 'dockerd', `--data-root=${dataRoot}`, `--exec-root=${lab.execRoot}/exec`, `--pidfile=${lab.execRoot}/docker.pid`, `--host=unix://${lab.socket}`, '--storage-driver=overlay2', '--log-level=warn'],
        { env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      lab.daemon = child;
      for (const s of [child.stdout, child.stderr]) s?.setEncoding('utf8').on('data', (d: string) => lab.daemonLog.push(...d.split('\n').filter(Boolean)));
      const daemonLogTail = async () => lab.daemonLog.slice(-20).join('\n');
      const outcome = await pollUntil(`dockerd answers on ${lab.socket}`, 60_000, async () => {
        if (child.exitCode !== null) return 'exited';
        return (await lab.docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 })).status === 0 ? 'answers' : undefined;
      }, { everyMs: 500, diagnose: daemonLogTail });
      if (outcome === 'exited') throw new Error(`dockerd exited ${child.exitCode}:\n${await daemonLogTail()}`);
      return lab;
    } catch (e) {
      await lab.stop();
      throw e;
    }
  }

  /** `docker ARGS` against this daemon. */
  docker(args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    return runAsync(DOCKER_CLIENT, ['-H', `unix://${this.socket}`, ...args], options);
  }

  /** `docker ARGS`; throws with its output unless it exits 0; returns stdout. */
  async mustDocker(args: readonly string[], options: RunOptions = {}): Promise<string> {
    const r = await this.docker(args, options);
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** Runs a command in the lab's namespace (on the host side of its bridges), to completion. */
  inNetns(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    return runAsync('nsenter', [`--net=/run/netns/${this.netns}`, command, ...args], options);
  }

  /** Starts a long-running process in the lab's namespace; `stop()` ends it (by its pid). */
  spawnInNetns(command: string, args: readonly string[]): ChildProcess {
    const child = spawn('nsenter', [`--net=/run/netns/${this.netns}`, command, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }
  private readonly children: ChildProcess[] = [];

  /**
   * Removes every container, network and volume of this daemon whose name starts with `prefix`,
   * stops the processes the lab started (by pid), then deletes the namespace and releases the lock. Each
   * step runs whatever the one before it threw (the first error is thrown at the end). Safe to call twice.
   */
  async stop(prefix?: string): Promise<void> {
    await everyStep([
      async () => {
        if (prefix !== undefined) await this.removeAll(prefix);
      },
      async () => {
        for (const child of this.children) await stopChild(child);
        this.children.length = 0;
      },
      async () => {
        if (this.daemon) await stopChild(this.daemon, 30_000);
        this.daemon = undefined;
      },
      () => spawnSync('ip', ['netns', 'del', this.netns], { env: env() }),
      () => unmountUnder(this.execRoot),
      () => fs.rmSync(this.execRoot, { recursive: true, force: true }),
      () => this.unlock(),
    ]);
  }

  /** Removes every container, network and volume of this daemon whose name starts with `prefix`. */
  async removeAll(prefix: string): Promise<void> {
    if (this.daemon && this.daemon.exitCode === null) {
      const ids = (await this.docker(['ps', '-aq', '--filter', `name=^${prefix}`])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await this.docker(['rm', '-f', '-v', ...ids], { timeoutMs: 180_000 });
      const nets = (await this.docker(['network', 'ls', '-q', '--filter', `name=^${prefix}`])).stdout.split('\n').filter(Boolean);
      if (nets.length > 0) await this.docker(['network', 'rm', ...nets]);
      const vols = (await this.docker(['volume', 'ls', '-q', '--filter', `name=^${prefix}`])).stdout.split('\n').filter(Boolean);
      if (vols.length > 0) await this.docker(['volume', 'rm', '-f', ...vols], { timeoutMs: 120_000 });
    }
  }

  private get lockFile(): string {
    return `${this.dataRoot}.lock`;
  }

  /** One daemon per data root: a second run waits for nobody — it fails, naming the holder. */
  private lock(): void {
    fs.mkdirSync(path.dirname(this.dataRoot), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(this.lockFile, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(fs.readFileSync(this.lockFile, 'utf8').trim());
    if (holder === process.pid) throw new Error(`this run already holds ${this.dataRoot}: a lab it started earlier was not stopped`);
    if (!processIsGone(holder)) throw new Error(`another end-to-end run (pid ${holder}) is using ${this.dataRoot}; wait for it to finish`);
    fs.writeFileSync(this.lockFile, `${process.pid}\n`);
  }

  private unlock(): void {
    try {
      if (fs.readFileSync(this.lockFile, 'utf8').trim() === String(process.pid)) fs.rmSync(this.lockFile);
    } catch {
      // not held
    }
  }

  /** The daemon's last log lines, for failure reports. */
  get log(): readonly string[] {
    return this.daemonLog;
  }

  private must(command: string, args: readonly string[]): void {
    const r = spawnSync(command, args, { encoding: 'utf8', env: env() });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  }
}

/** SIGTERM to one process we started, by its pid; SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** The folder of a file's path, created with mode 0700 if missing. */
export function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return path.resolve(dir);
}

/** Deletes `<name>-<pid>` namespaces (and exec roots) of earlier runs whose process is gone. */
function removeStaleNamespaces(name: string): void {
  for (const { namespace } of namespacesOfDeadRuns(name)) {
    // Its dockerd, if it outlived it (pid file in the run's exec root), goes first: it holds the data root. Only
    // if that pid still is that dockerd (its command line names the pid file): a pid may have been reused.
    const pidFile = `/run/${namespace}/docker.pid`;
    const pid = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : '';
    let cmdline = '';
    try {
      if (/^\d+$/.test(pid)) cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // gone
    }
    if (cmdline.split('\0').includes(`--pidfile=${pidFile}`)) {
      spawnSync('bash', ['-c', 'kill "$1" 2>/dev/null; for _ in $(seq 60); do kill -0 "$1" 2>/dev/null || exit 0; sleep 0.5; done', 'bash', pid]);
    }
    spawnSync('ip', ['netns', 'del', namespace], { env: env() });
    unmountUnder(`/run/${namespace}`);
    fs.rmSync(`/run/${namespace}`, { recursive: true, force: true });
  }
}
