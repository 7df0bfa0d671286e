import { ChildProcess } from 'child_process';

/**
 * A request to one URL every 0.2 s, as a user's client would keep sending them while a node is lost: the one loop
 * behind losing a control plane (host/control-plane-failover.ts) and the end-to-end tier's VIP failover. It runs
 * in bash where the caller's `spawn` starts it (the tier's network namespace, or the host), so curl reaches the
 * same addresses as the rest of the check.
 */

/** One request of the loop, as its line reports it. */
export interface RequestSample {
  /** When it was sent, ms since the epoch. */
  readonly at: number;
  /** HTTP 200. */
  readonly ok: boolean;
  /** The HTTP code; 000 when there was no HTTP answer. */
  readonly code: string;
  /** curl's exit code (28: timed out; 7: refused; 35, 52, 56: the connection broke), when the line has it. */
  readonly curlExit?: number;
  /** The request's total seconds, when the line has them. */
  readonly seconds?: number;
}

/** A line of the request loop, `SENT_MS HTTP_CODE [CURL_EXIT SECONDS]`; undefined for anything else. */
export function parseRequestSample(line: string): RequestSample | undefined {
  const m = /^(\d+) (\d+)(?: (\d+) (\d+(?:\.\d+)?))?$/.exec(line.trim());
  if (!m) return undefined;
  const sample = { at: Number(m[1]), ok: m[2] === '200', code: m[2] };
  return m[3] === undefined ? sample : { ...sample, curlExit: Number(m[3]), seconds: Number(m[4]) };
}

/** A request for the report: its HTTP code, and curl's exit code and time when known. */
export function describeRequest(s: RequestSample): string {
  return s.curlExit === undefined ? s.code : `${s.code} (curl exit ${s.curlExit}, ${s.seconds?.toFixed(1)} s)`;
}

/**
 * The loop, one request at a time. Each line: when the request was sent (not when it ended: a timed-out one ends
 * `limit` seconds later), its HTTP code, curl's exit code and its total seconds. `$1` the URL, `$2` how many
 * requests at most, `$3` each one's limit in seconds.
 */
export const REQUEST_LOOP_SCRIPT =
  'for ((i = 0; i < $2; i++)); do sent=$(date +%s%3N); out=$(curl -sk --max-time "$3" -o /dev/null -w "%{http_code} %{exitcode} %{time_total}" "$1"); echo "${sent} ${out}"; sleep 0.2; done';

/** Options of {@link startRequestLoop}. */
export interface RequestLoopOptions {
  /** Requests at most; the loop ends by itself after them. @default 1200 (4 min at 0.2 s apart, more when slow) */
  readonly maxRequests?: number;
  /**
   * Each request's limit, in seconds. It is for a dead backend, which a request reaches only before the failure
   * is detected: a 2 s limit once counted a /readyz that a loaded 2-core host answered late as failed. @default 5
   */
  readonly limitSeconds?: number;
}

/** A running request loop: what it has reported so far, and how to stop it. */
export interface RequestLoop {
  /** Every request reported so far, in the order sent; grows while the loop runs. */
  readonly samples: readonly RequestSample[];
  /** Stops the loop (SIGTERM) if it still runs; safe to call more than once. */
  stop(): void;
}

/** Starts the loop against `url` with the caller's `spawn` (bash, with the script and its arguments). */
export function startRequestLoop(spawn: (command: string, args: readonly string[]) => ChildProcess, url: string, options: RequestLoopOptions = {}): RequestLoop {
  const maxRequests = options.maxRequests ?? 1200;
  const limitSeconds = options.limitSeconds ?? 5;
  if (!Number.isInteger(maxRequests) || maxRequests < 1) throw new Error(`maxRequests must be a whole number of at least 1, got ${maxRequests}`);
  if (!(limitSeconds > 0 && limitSeconds <= 60)) throw new Error(`limitSeconds must be more than 0 and at most 60, got ${limitSeconds}`);
  const child = spawn('bash', ['-c', REQUEST_LOOP_SCRIPT, 'request-loop', url, String(maxRequests), String(limitSeconds)]);
  const samples: RequestSample[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const sample = parseRequestSample(line);
      if (sample) samples.push(sample);
    }
  });
  return {
    samples,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
