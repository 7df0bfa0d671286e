/**
 * Bounded polling, the one way the host-side code and the test tiers wait for a cluster to reach a state:
 * the failover (HAProxy's DOWN line, the node Ready again), the end-to-end tier's checks, the labs' daemons.
 */

/** Options of {@link pollUntil}. */
export interface PollUntilOptions {
  /** Milliseconds from the end of one probe to the start of the next. @default 2000 */
  readonly everyMs?: number;
  /** What to add to the timeout's error, on a line of its own (each node's state, a daemon's log). @default - nothing */
  readonly diagnose?: () => Promise<string>;
}

/**
 * Runs `probe` until it returns a value other than `undefined`, and returns that value as soon as it does:
 * the first probe runs at once, a wait of `everyMs` comes only after a probe that found nothing. A probe that
 * throws counts as "not yet"; its message is kept. Once `timeoutMs` has passed, throws
 * `WHAT: not within N s (last: MESSAGE)` (N ms below a second) and then what `diagnose` adds.
 */
export async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, options: PollUntilOptions = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) {
      const diagnosis = options.diagnose ? `\n${await options.diagnose()}` : '';
      const bound = timeoutMs >= 1_000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
      throw new Error(`${what}: not within ${bound}${last ? ` (last: ${last.slice(0, 2000)})` : ''}${diagnosis}`);
    }
    await new Promise((r) => setTimeout(r, options.everyMs ?? 2_000));
  }
}
