import { pollUntil } from '../../host/poll-until';

// host/poll-until.ts: the bounded wait behind the failover, the end-to-end tier and the labs. What it promises:
// it returns as soon as the probe finds something, and gives up only after its timeout, saying what it waited for.

/** A probe that finds nothing `misses` times, then returns 'ready'; it counts its calls. */
function probeReadyAfter(misses: number): { probe: () => Promise<string | undefined>; calls: () => number } {
  let calls = 0;
  return {
    probe: async () => (++calls > misses ? 'ready' : undefined),
    calls: () => calls,
  };
}

describe('pollUntil', () => {
  test('returns the probe\'s value at once when the condition already holds (no wait of everyMs)', async () => {
    // GIVEN a probe that finds its value on the first call, and a long interval
    const p = probeReadyAfter(0);
    const started = Date.now();
    // WHEN it polls THEN it returns that value after one call, long before one interval passed
    await expect(pollUntil('the thing', 60_000, p.probe, { everyMs: 10_000 })).resolves.toBe('ready');
    expect(p.calls()).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('returns as soon as the condition holds: one interval after each miss, no more', async () => {
    // GIVEN a probe that misses twice
    const p = probeReadyAfter(2);
    const started = Date.now();
    // WHEN it polls every 500 ms THEN the third call returns, after two intervals (before a third, long before the timeout)
    await expect(pollUntil('the thing', 60_000, p.probe, { everyMs: 500 })).resolves.toBe('ready');
    expect(p.calls()).toBe(3);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(2 * 500 - 5);
    expect(elapsed).toBeLessThan(3 * 500);
  });

  test('a probe that throws counts as "not yet": polling goes on and returns the later value', async () => {
    let calls = 0;
    const probe = async () => {
      if (++calls < 3) throw new Error('connection refused');
      return calls;
    };
    await expect(pollUntil('the API answers', 60_000, probe, { everyMs: 10 })).resolves.toBe(3);
  });

  test('fails after its timeout, not before, with a message naming what it waited for', async () => {
    // GIVEN a probe that never finds anything
    const p = probeReadyAfter(Number.POSITIVE_INFINITY);
    const started = Date.now();
    // WHEN it polls for 1 s THEN it throws naming the condition and the bound, having waited at least that long
    await expect(pollUntil('HAProxy marks k8s-lab-cp-1 DOWN', 1_000, p.probe, { everyMs: 50 })).rejects.toThrow(/^HAProxy marks k8s-lab-cp-1 DOWN: not within 1 s$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(p.calls()).toBeGreaterThan(1);
  });

  test('fails with the last error the probe threw, and what diagnose adds on a line of its own', async () => {
    const probe = async (): Promise<string | undefined> => {
      throw new Error('dial tcp 127.0.0.1:1: connection refused');
    };
    const diagnose = async () => 'cp-1: running';
    await expect(pollUntil('all 3 nodes Ready', 300, probe, { everyMs: 50, diagnose })).rejects.toThrow(
      'all 3 nodes Ready: not within 300 ms (last: dial tcp 127.0.0.1:1: connection refused)\ncp-1: running',
    );
  });
});
