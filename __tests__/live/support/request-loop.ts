import * as https from 'https';

/** One request through the load balancer: when it started and ended, and who answered or why it failed. */
export interface RequestResult {
  readonly startedAt: number;
  readonly endedAt: number;
  /** The backend's name when it answered 200. */
  readonly servedBy?: string;
  /** Why it failed: a connection error, a timeout, or an unexpected status. */
  readonly error?: string;
  /** The client's local port, which HAProxy's connection log names (`127.0.0.1:PORT [...]`). */
  readonly localPort?: number;
}

export interface RequestLoopOptions {
  /** Where the load balancer listens (loopback). */
  readonly host: string;
  readonly port: number;
  /** The path whose answer names the backend. */
  readonly path: string;
  /** The certificate to trust: the stand-ins' throwaway self-signed one (see the test). */
  readonly caPem: string;
  /** A new request every this many milliseconds, whether or not earlier ones are done. */
  readonly everyMs: number;
  /** Each request fails after this long. */
  readonly timeoutMs: number;
  /** The loop stops by itself after this many requests (a bound if the test forgets to stop it). */
  readonly maxRequests: number;
}

/**
 * A fixed-rate client: every `everyMs` a fresh TLS connection (no keep-alive, so each request is
 * balanced on its own) sends GET `path`. Results are recorded in `results`.
 */
export class RequestLoop {
  readonly results: RequestResult[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  private sent = 0;

  constructor(private readonly options: RequestLoopOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.sent >= this.options.maxRequests) {
        this.halt();
        return;
      }
      this.sent++;
      const p = this.one().then((r) => {
        this.results.push(r);
      });
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }, this.options.everyMs);
  }

  /** Stops sending and waits for the requests in flight (each ends within timeoutMs). */
  async stop(): Promise<void> {
    this.halt();
    await Promise.all([...this.inFlight]);
  }

  /** Requests that started and ended inside [from, to): nothing else happened to them. */
  within(from: number, to = Infinity): RequestResult[] {
    return this.results.filter((r) => r.startedAt >= from && r.endedAt < to);
  }

  /** Requests in flight at some moment of [from, to): started before `to`, ended at or after `from`. */
  overlapping(from: number, to: number): RequestResult[] {
    return this.results.filter((r) => r.startedAt < to && r.endedAt >= from);
  }

  private halt(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private one(): Promise<RequestResult> {
    const { host, port, path, caPem, timeoutMs } = this.options;
    const startedAt = Date.now();
    return new Promise<RequestResult>((resolve) => {
      let done = false;
      let localPort: number | undefined;
      const finish = (r: Omit<RequestResult, 'startedAt' | 'endedAt' | 'localPort'>) => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        resolve({ startedAt, endedAt: Date.now(), localPort, ...r });
      };
      const req = https.get({ host, port, path, ca: caPem, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? finish({ servedBy: body }) : finish({ error: `HTTP ${res.statusCode}` })));
        res.on('error', (e) => finish({ error: e.message }));
      });
      // A deadline for the whole request (connect, TLS handshake, answer), not an idle timeout.
      const deadline = setTimeout(() => {
        finish({ error: `timeout after ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      req.on('socket', (socket) => socket.once('connect', () => (localPort = socket.localPort)));
      req.on('error', (e: NodeJS.ErrnoException) => finish({ error: e.code ?? e.message }));
    });
  }
}
