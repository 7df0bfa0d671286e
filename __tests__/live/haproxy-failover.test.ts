import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HAPROXY_BACKEND, HaproxyConfigInput, haproxyInputForCluster, renderHaproxyConfig } from '../../bootstrap/haproxy-config';
import { parseClusterSpec, planCluster } from '../../spec';
import { literal } from '../support/regexp';
import { HaproxyProcess, LogLine } from './support/haproxy-process';
import { addressesOf, freePort, healthCheckOf, waitForListener } from './support/rendered-config';
import { RequestLoop, RequestResult } from './support/request-loop';
import { StandInApiServer, WHOAMI_PATH } from './support/stand-in-api-server';
import { makeThrowawayCert } from './support/throwaway-cert';

/*
 * Live failover of the project's haproxy.cfg with the real HAProxy, on loopback only.
 *
 * Three stand-in API servers (Node https, a throwaway self-signed certificate) take the places of
 * the default cluster's three control planes: each plan node's ip:6443 is mapped to 127.0.0.1x:<port>
 * and the config is rendered by the same renderer and cluster mapping the load-balancer VM gets.
 * A fixed-rate client goes through HAProxy while backends stop and come back.
 *
 * HAProxy's view of a server ("Server apiserverbackend/NAME is DOWN/UP") is read from its own
 * output (-db keeps it in the foreground; the config logs to stdout; warnings go to stderr): no
 * stats listener is needed, and the production config has none.
 *
 * Health-check timing: the production default (inter 2s, fall 3) would need ~16 s per phase in the
 * worst case, so the test passes tighter timing through the renderer's own `healthCheck` input.
 * The bounds are then computed from the timing read back from the rendered file.
 */

const FRONTEND_HOST = '127.0.0.1';
/** One loopback address per control plane (Linux routes all of 127/8 to lo). */
const BACKEND_HOSTS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
/** Timing passed through HaproxyConfigInput.healthCheck. */
const TEST_HEALTH_CHECK = { interMs: 1000, fall: 2, rise: 2, timeoutCheckMs: 2000 };
/**
 * Added to each bound: the stop is timed before the listener closes, the log line crosses a pipe
 * and the event loop, and the checks' own scheduling adds a few milliseconds per check.
 */
const SLACK_MS = 500;
/** How long each phase keeps going after its state change. */
const SETTLE_MS = 1500;
/** A request every 25 ms, each given 2 s (HAProxy may wait up to 1 s before a retry). */
const REQUEST_EVERY_MS = 25;
const REQUEST_TIMEOUT_MS = 2000;

/** Every clean-up step registered so far; run (last first) in finally and again in afterAll. */
const cleanups: (() => Promise<void> | void)[] = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    const step = cleanups.pop()!;
    try {
      await step();
    } catch (e) {
      console.error(`clean-up step failed: ${(e as Error).message}`);
    }
  }
}
afterAll(cleanUp);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stateLine = (server: string, state: 'DOWN' | 'UP') => new RegExp(`Server ${literal(HAPROXY_BACKEND)}/${literal(server)} is ${state}\\b`);
const failures = (rs: readonly RequestResult[]) => rs.filter((r) => r.error !== undefined);
const slowestMs = (rs: readonly RequestResult[]) => Math.max(0, ...rs.map((r) => r.endedAt - r.startedAt));
const servedBy = (rs: readonly RequestResult[]) => [...new Set(rs.flatMap((r) => (r.servedBy ? [r.servedBy] : [])))].sort();

/** The account HAProxy drops to: the rendered default (haproxy) as root, else the current user. */
function runAsForThisMachine(): HaproxyConfigInput['runAs'] {
  if (process.getuid?.() === 0) return undefined;
  return { user: os.userInfo().username, group: execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim() };
}

test('HAProxy takes stopped API servers out of rotation within fall*inter + timeout check, and back in within rise*inter + timeout check', async () => {
  try {
    // GIVEN the real haproxy and the default cluster's three control planes
    HaproxyProcess.assertInstalled();
    const plan = planCluster(parseClusterSpec({}).spec);
    expect(plan.controlPlanes).toHaveLength(BACKEND_HOSTS.length);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'haproxy-failover-'));
    cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));

    // ... a stand-in API server per control plane, on its own loopback address
    const cert = makeThrowawayCert(tmp, [FRONTEND_HOST, ...BACKEND_HOSTS]);
    const standIns = plan.controlPlanes.map((cp, i) => new StandInApiServer(cp.hostname, BACKEND_HOSTS[i], cert));
    cleanups.push(() => Promise.all(standIns.map((s) => s.stop())).then(() => undefined));
    await Promise.all(standIns.map((s) => s.start()));

    // ... the cluster's HAProxy input, each node's ip:6443 mapped to its stand-in, rendered by the project's renderer
    const clusterInput = haproxyInputForCluster(plan);
    const standInByIp = new Map(plan.controlPlanes.map((cp, i) => [cp.ip, standIns[i]]));
    const input: HaproxyConfigInput = {
      ...clusterInput,
      frontend: { address: FRONTEND_HOST, port: await freePort(FRONTEND_HOST) },
      backends: clusterInput.backends.map((b) => {
        const standIn = standInByIp.get(b.address)!;
        return { ...b, address: standIn.host, port: standIn.port };
      }),
      healthCheck: TEST_HEALTH_CHECK,
      runAs: runAsForThisMachine(),
    };
    const configText = renderHaproxyConfig(input);
    // Loopback only: refuse to run a config that binds or connects anywhere else.
    expect(addressesOf(configText).filter((a) => !/^127\./.test(a))).toEqual([]);
    expect(addressesOf(configText)).toHaveLength(1 + BACKEND_HOSTS.length);
    const configFile = path.join(tmp, 'haproxy.cfg');
    fs.writeFileSync(configFile, configText);

    // ... bounds derived from the timing in the rendered file
    const check = healthCheckOf(configText);
    const downBoundMs = check.fall * check.interMs + check.timeoutCheckMs + SLACK_MS;
    const upBoundMs = check.rise * check.interMs + check.timeoutCheckMs + SLACK_MS;
    const [cp1, cp2, cp3] = standIns;

    // ... HAProxy running, and a client going through it
    const haproxy = HaproxyProcess.start(configFile);
    cleanups.push(() => haproxy.stop());
    await waitForListener(FRONTEND_HOST, input.frontend.port, 5000).catch((e: Error) => {
      throw new Error(`${e.message}; haproxy said:\n${haproxy.tail()}`);
    });
    // TLS is verified against the stand-ins' own certificate (it names every loopback address used),
    // rather than switched off with rejectUnauthorized: false: HAProxy passes TLS through untouched in
    // TCP mode, so the client must complete a handshake with a real backend for a request to count.
    const loop = new RequestLoop({
      host: FRONTEND_HOST,
      port: input.frontend.port,
      path: WHOAMI_PATH,
      caPem: cert.certPem,
      everyMs: REQUEST_EVERY_MS,
      timeoutMs: REQUEST_TIMEOUT_MS,
      maxRequests: Math.ceil(50_000 / REQUEST_EVERY_MS),
    });
    cleanups.push(() => loop.stop());
    loop.start();

    // WHEN phase A: all three up
    const a0 = Date.now();
    await sleep(2000);
    // ... phase B: cp-1 stops
    const b0 = Date.now();
    await cp1.stop();
    const bDown: LogLine = await haproxy.waitForLine(stateLine(cp1.name, 'DOWN'), b0, downBoundMs + 5000);
    await sleep(SETTLE_MS);
    // ... phase C: cp-2 stops too; cp-3 is left
    const c0 = Date.now();
    await cp2.stop();
    const cDown = await haproxy.waitForLine(stateLine(cp2.name, 'DOWN'), c0, downBoundMs + 5000);
    await sleep(SETTLE_MS);
    // ... phase D: both come back
    const d0 = Date.now();
    await Promise.all([cp1.start(), cp2.start()]);
    const dUp = await Promise.all([cp1, cp2].map((s) => haproxy.waitForLine(stateLine(s.name, 'UP'), d0, upBoundMs + 5000)));
    const dUpAt = Math.max(...dUp.map((l) => l.at));
    await sleep(2000);
    await loop.stop();

    // Each phase: "before" = every request in flight between the disruption and HAProxy logging the
    // change (a request cut by a stopping server counts here, whenever it started); "after" = requests
    // that started after the change was logged and ended before the next disruption.
    const phases = [
      { phase: 'A all up', before: loop.within(a0, b0), after: [] as RequestResult[], changeMs: undefined as number | undefined, boundMs: undefined as number | undefined },
      { phase: `B ${cp1.name} stops`, before: loop.overlapping(b0, bDown.at), after: loop.within(bDown.at, c0), changeMs: bDown.at - b0, boundMs: downBoundMs },
      { phase: `C ${cp2.name} stops`, before: loop.overlapping(c0, cDown.at), after: loop.within(cDown.at, d0), changeMs: cDown.at - c0, boundMs: downBoundMs },
      { phase: 'D both return', before: loop.overlapping(d0, dUpAt), after: loop.within(dUpAt), changeMs: dUpAt - d0, boundMs: upBoundMs },
    ];
    console.log(
      [
        `HAProxy failover on loopback, rendered timing: inter ${check.interMs} ms, fall ${check.fall}, rise ${check.rise}, timeout check ${check.timeoutCheckMs} ms; ` +
          `a request every ${REQUEST_EVERY_MS} ms; bounds include ${SLACK_MS} ms slack`,
        ['phase', 'requests', 'failed before change', 'failed after change', 'HAProxy saw change after', 'bound', 'slowest request', 'served by (after change)'].join(' | '),
        ...phases.map((p) =>
          [
            p.phase,
            p.before.length + p.after.length,
            failures(p.before).length,
            p.phase.startsWith('A') ? '-' : failures(p.after).length,
            p.changeMs === undefined ? '-' : `${p.changeMs} ms`,
            p.boundMs === undefined ? '-' : `${p.boundMs} ms`,
            `${slowestMs([...p.before, ...p.after])} ms`,
            servedBy(p.phase.startsWith('A') ? p.before : p.after).join(', '),
          ].join(' | '),
        ),
        `failed requests (first 10; ms after phase A began, ms taken, error): ${JSON.stringify(
          failures(loop.results)
            .slice(0, 10)
            .map((r) => [r.startedAt - a0, r.endedAt - r.startedAt, r.error]),
        )}`,
        ...failures(loop.results)
          .slice(0, 10)
          .flatMap((r) => haproxy.lines.filter((l) => r.localPort !== undefined && l.text.startsWith(`${FRONTEND_HOST}:${r.localPort} `)).map((l) => `  haproxy: ${l.text}`)),
      ].join('\n'),
    );

    // THEN phase A: no failure, all three serve
    expect(failures(phases[0].before)).toEqual([]);
    expect(servedBy(phases[0].before)).toEqual([cp1.name, cp2.name, cp3.name].sort());
    // ... phase B: cp-1 marked down within the bound; afterwards no failure and never cp-1
    expect(phases[1].changeMs).toBeLessThanOrEqual(downBoundMs);
    expect(failures(phases[1].after)).toEqual([]);
    expect(servedBy(phases[1].after)).toEqual([cp2.name, cp3.name].sort());
    // ... phase C: cp-2 marked down within the bound; afterwards cp-3 serves everything, no failure
    expect(phases[2].changeMs).toBeLessThanOrEqual(downBoundMs);
    expect(failures(phases[2].after)).toEqual([]);
    expect(servedBy(phases[2].after)).toEqual([cp3.name]);
    // ... phase D: both back within the bound; afterwards all three serve again, no failure
    expect(phases[3].changeMs).toBeLessThanOrEqual(upBoundMs);
    expect(failures(phases[3].after)).toEqual([]);
    expect(servedBy(phases[3].after)).toEqual([cp1.name, cp2.name, cp3.name].sort());
    // ... and every phase had requests to judge (the loop really ran throughout)
    for (const p of phases) expect(p.before.length + p.after.length).toBeGreaterThan(20);
  } finally {
    await cleanUp();
  }
}, 60_000);
