import { spawn } from 'child_process';
import * as http from 'http';
import { AddressInfo } from 'net';
import { pollUntil } from '../../host/poll-until';
import { startRequestLoop } from '../../host/request-loop';
import { requireTool } from '../support/tools';

// The failover checks' request loop (host/request-loop.ts), run for real: bash and curl (installed by
// `npm run tools`) against an HTTP server on 127.0.0.1 that this test starts and stops. The server answers the
// first requests 200, then holds one past the loop's limit, then drops the connection: each kind must come back
// as a sample with its own curl exit code, stamped when it was sent.

let server: http.Server;
let url: string;
let requests = 0;
let held: NodeJS.Timeout | undefined;

beforeAll(async () => {
  requireTool('curl');
  server = http.createServer((req, res) => {
    requests++;
    if (requests <= 2) res.end('ok');
    else if (requests === 3) held = setTimeout(() => res.end('late'), 3_000); // past the 1 s limit
    else req.socket.destroy(); // no HTTP answer at all
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
});

afterAll(async () => {
  clearTimeout(held);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('reports 200s, a request past its limit (curl exit 28, stamped when sent) and a dropped connection (no HTTP code), then ends by itself', async () => {
  // GIVEN the loop with at most 4 requests of 1 s each, against the server above
  const child = { exited: undefined as Promise<number | null> | undefined };
  const loop = startRequestLoop((command, args) => {
    const c = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.exited = new Promise((resolve) => c.on('exit', resolve));
    return c;
  }, url, { maxRequests: 4, limitSeconds: 1 });
  try {
    // WHEN it has sent all four
    const samples = await pollUntil('four requests reported', 20_000, async () => (loop.samples.length >= 4 ? loop.samples : undefined), { everyMs: 50 });
    // THEN the first two answered 200, the third timed out after its 1 s, the fourth got no HTTP answer
    expect(samples.map((s) => [s.code, s.ok, s.curlExit])).toEqual([['200', true, 0], ['200', true, 0], ['000', false, 28], ['000', false, 52]]);
    expect(samples[2].seconds).toBeGreaterThanOrEqual(1);
    expect(samples[2].seconds).toBeLessThan(2);
    // the timed-out request is stamped when it was sent: the next one was sent about 1.2 s (limit + pause) later
    expect(samples[3].at - samples[2].at).toBeGreaterThanOrEqual(1_000);
    // and the loop ended by itself after maxRequests
    await expect(child.exited).resolves.toBe(0);
  } finally {
    loop.stop();
  }
}, 30_000);

test('stop() ends a loop that still runs', async () => {
  // GIVEN a loop of up to 1000 requests
  let exited: Promise<NodeJS.Signals | null> | undefined;
  const loop = startRequestLoop((command, args) => {
    const c = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    exited = new Promise((resolve) => c.on('exit', (_code, signal) => resolve(signal)));
    return c;
  }, url, { maxRequests: 1000, limitSeconds: 1 });
  // WHEN it is stopped (twice: the second call does nothing)
  loop.stop();
  loop.stop();
  // THEN bash ends by SIGTERM
  await expect(exited).resolves.toBe('SIGTERM');
}, 10_000);

test('refuses a limit or a count it cannot honour, naming the value', () => {
  const never = () => {
    throw new Error('must not start');
  };
  expect(() => startRequestLoop(never, url, { limitSeconds: 0 })).toThrow('limitSeconds must be more than 0 and at most 60, got 0');
  expect(() => startRequestLoop(never, url, { maxRequests: 2.5 })).toThrow('maxRequests must be a whole number of at least 1, got 2.5');
});
