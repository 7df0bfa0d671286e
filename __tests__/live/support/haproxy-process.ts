import { ChildProcess, spawn, spawnSync } from 'child_process';
import { TOOL_PATH } from '../../support/tools';
import { LogLine, recordLines } from './line-log';

export type { LogLine };


/**
 * The real HAProxy in the foreground (`haproxy -db -f FILE`) as a child process in its own process
 * group. Its log (the rendered `log stdout`) and its warnings (stderr, e.g. "Server
 * apiserverbackend/NAME is DOWN") are collected as lines with the time they arrived, which is how
 * the failover test sees a server change state without any stats listener.
 */
export class HaproxyProcess {
  readonly lines: LogLine[] = [];
  private child: ChildProcess | undefined;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly configFile: string) {}

  /** Fails naming haproxy and `npm run tools` when the binary is missing. */
  static assertInstalled(): void {
    const run = spawnSync('haproxy', ['-v'], { encoding: 'utf8', env: { ...process.env, PATH: TOOL_PATH } });
    if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('haproxy is not installed (looked in PATH and /usr/sbin); run `npm run tools`');
    }
    if (run.error) throw run.error;
  }

  /** Starts HAProxy on `configFile`. Call stop() in a finally block. */
  static start(configFile: string): HaproxyProcess {
    const p = new HaproxyProcess(configFile);
    const child = spawn('haproxy', ['-db', '-f', configFile], {
      env: { ...process.env, PATH: TOOL_PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so stop() reaches every process it may fork
    });
    p.child = child;
    recordLines(child, p.lines, () => p.wake());
    child.on('exit', (code, signal) => {
      p.exited = { code, signal };
      p.wake();
    });
    child.on('error', (err) => {
      p.lines.push({ at: Date.now(), text: `spawn error: ${err.message}` });
      p.exited = { code: null, signal: null };
      p.wake();
    });
    return p;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Resolves with the first line matching `pattern` that arrived at or after `since`; rejects
   * after `timeoutMs`, or when HAProxy exits, with what it wrote.
   */
  async waitForLine(pattern: RegExp, since: number, timeoutMs: number): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find((l) => l.at >= since && pattern.test(l.text));
      if (hit) return hit;
      if (this.exited) throw new Error(`haproxy exited (${JSON.stringify(this.exited)}) before logging ${pattern}:\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`haproxy logged nothing matching ${pattern} within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * For failure messages: the last lines HAProxy wrote that are not per-connection traffic logs
   * (server state changes, warnings, alerts), then the last few traffic lines.
   */
  tail(n = 30): string {
    const traffic = (l: LogLine) => / apiserver apiserverbackend\//.test(l.text) && !/ is (UP|DOWN)/.test(l.text);
    const notable = this.lines.filter((l) => !traffic(l)).slice(-n);
    const recent = this.lines.filter(traffic).slice(-5);
    return [...notable, ...(recent.length > 0 ? [{ at: 0, text: '... last traffic lines:' }, ...recent] : [])].map((l) => `  ${l.text}`).join('\n');
  }

  /** Stops the whole process group: SIGTERM, then SIGKILL after 3 s. Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined || this.exited) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // the group is already gone
      }
    };
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
