import { ChildProcess, spawn, spawnSync } from 'child_process';
import { namespacesOfDeadRuns } from '../../support/stale-namespaces';
import { TOOL_PATH } from '../../support/tools';
import { LogLine, recordLines } from './line-log';

/** What a command printed and how it ended. */
export interface NetnsRunResult {
  readonly status: number | null;
  readonly output: string;
}


/** A long-running process inside a namespace, in its own process group. */
export interface NetnsProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr, line by line. */
  readonly lines: LogLine[];
  /** Set once it exited. */
  exited?: { code: number | null; signal: NodeJS.Signals | null };
}

const env = () => ({ ...process.env, PATH: TOOL_PATH });

/**
 * Network namespaces made for one test file, and the processes it runs in them. Everything the
 * lab makes lives inside its own namespaces (names `<prefix>-<pid>-<name>`): links are created
 * inside them, addresses are only ever added inside them, and `destroy()` kills every process
 * still in them and deletes them, which removes their links too. The host's own interfaces,
 * addresses and routes are never touched.
 */
export class NetnsLab {
  private readonly namespaces: string[] = [];
  private readonly processes: NetnsProcess[] = [];

  constructor(private readonly prefix: string) {
    if (!/^[a-z0-9-]{1,20}$/.test(prefix)) throw new Error(`namespace prefix must be 1 to 20 of a-z, 0-9, '-', got ${JSON.stringify(prefix)}`);
    this.sweepDeadRuns();
  }

  /**
   * Removes the `<prefix>-<pid>-*` namespaces of earlier runs whose process is gone (killed before their
   * afterAll ran), and the processes those runs started in them (haproxy, keepalived: only this lab runs
   * anything in its namespaces). A namespace of a live process, or of this one, is left alone.
   */
  private sweepDeadRuns(): void {
    for (const { namespace } of namespacesOfDeadRuns(this.prefix)) {
      const pids = spawnSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8', env: env() }).stdout ?? '';
      for (const pid of pids.split('\n').filter((p) => /^\d+$/.test(p))) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('ip', ['netns', 'del', namespace], { env: env() });
    }
  }


  /**
   * Fails with what the system said when network namespaces cannot be made here (they need root,
   * or CAP_NET_ADMIN + CAP_SYS_ADMIN, and iproute2's `ip`).
   */
  static assertAvailable(): void {
    const probe = `k8slab-probe-${process.pid}`;
    const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8', env: env() });
    if (add.error && (add.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error("'ip' (iproute2) is not installed; run `npm run tools`");
    if (add.status !== 0) {
      throw new Error(`network namespaces cannot be created here (ip netns add ${probe} exited ${add.status}: ${add.stderr.trim()}); this test needs root or CAP_NET_ADMIN+CAP_SYS_ADMIN`);
    }
    spawnSync('ip', ['netns', 'del', probe], { env: env() });
  }

  /** Makes the namespace `<prefix>-<pid>-<name>` with its loopback up; returns its full name. */
  addNamespace(name: string): string {
    const ns = `${this.prefix}-${process.pid}-${name}`;
    this.must('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    this.must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs `ip -n <ns> ARGS`; throws with its output when it fails. */
  ip(ns: string, args: readonly string[]): void {
    this.assertOwn(ns);
    this.must('ip', ['-n', ns, ...args]);
  }

  /** Runs a command inside `ns` to completion. */
  run(ns: string, command: string, args: readonly string[], timeoutMs = 30_000): NetnsRunResult {
    this.assertOwn(ns);
    const r = spawnSync('ip', ['netns', 'exec', ns, command, ...args], { encoding: 'utf8', env: env(), timeout: timeoutMs });
    if (r.error) throw r.error;
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  }

  /** Starts a long-running command inside `ns` (its own process group); stop it with stop() or destroy(). */
  start(ns: string, name: string, command: string, args: readonly string[]): NetnsProcess {
    this.assertOwn(ns);
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const p: NetnsProcess = { name, child, lines: [] };
    recordLines(child, p.lines);
    child.on('exit', (code, signal) => (p.exited = { code, signal }));
    child.on('error', (err) => {
      p.lines.push({ at: Date.now(), text: `spawn error: ${err.message}` });
      p.exited = { code: null, signal: null };
    });
    this.processes.push(p);
    return p;
  }

  /** Signals a process's whole group and waits (at most 3 s, then SIGKILL) for it to exit. Safe to call twice. */
  async stop(p: NetnsProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (p.exited || p.child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
    const kill = (s: NodeJS.Signals) => {
      try {
        process.kill(-p.child.pid!, s);
      } catch {
        // already gone
      }
    };
    kill(signal);
    const timer = setTimeout(() => kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }

  /** Kills every process it started and any other process left in its namespaces, then deletes the namespaces. */
  async destroy(): Promise<void> {
    await Promise.all(this.processes.map((p) => this.stop(p).catch(() => undefined)));
    for (const ns of [...this.namespaces].reverse()) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', env: env() }).stdout.split('\n').filter((l) => /^\d+$/.test(l.trim()));
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('ip', ['netns', 'del', ns], { env: env() });
    }
    this.namespaces.length = 0;
  }

  /** The namespaces this lab made and has not deleted. */
  get names(): readonly string[] {
    return this.namespaces;
  }

  private assertOwn(ns: string): void {
    if (!this.namespaces.includes(ns)) throw new Error(`namespace ${ns} was not made by this lab (${this.namespaces.join(', ') || 'none'}); refusing to touch it`);
  }

  private must(command: string, args: readonly string[]): void {
    const r = spawnSync(command, args, { encoding: 'utf8', env: env() });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  }
}
