import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { haproxyConfigForCluster } from '../../bootstrap/haproxy-config';
import {
  KEEPALIVED_CHECK_SCRIPT_PATH,
  KEEPALIVED_INTERFACE_PARAMETER,
  keepalivedFailbackBoundMs,
  keepalivedFailoverBoundMs,
  keepalivedMasterDownBoundMs,
  KeepalivedTiming,
  renderKeepalivedConfig,
} from '../../bootstrap/keepalived-config';
import { keepalivedStep } from '../../bootstrap/keepalived-step';
import { parseClusterSpec, planCluster } from '../../spec';
import { NetnsLab, NetnsProcess } from './support/netns-lab';
import { Probe, PROBE_LOOP_JS, probesOf, STAND_IN_API_SERVERS_JS } from './support/netns-programs';
import { makeThrowawayCert } from './support/throwaway-cert';
import { TOOL_PATH } from '../support/tools';

/*
 * Live VIP failover of the two-load-balancer topology with the real keepalived and HAProxy, in
 * network namespaces this test makes (nothing of the host's networking is touched):
 *
 *   ns "sw": bridge br0 ── veth ── ns "lb1"    lan0 10.213.99.5   HAProxy + keepalived (lb-1)
 *                      ── veth ── ns "lb2"    lan0 10.213.99.6   HAProxy + keepalived (lb-2)
 *                      ── veth ── ns "cp"     lan0 10.213.99.10-12  three stand-in API servers
 *                      ── veth ── ns "client" lan0 10.213.99.200 probes https://10.213.99.2:6443
 *
 * The plan is the project's own for network.cidr 10.213.99.0/24 with loadBalancer.count 2 and
 * virtualIp 10.213.99.2, so the addresses above are planCluster's. Both load balancers run the
 * unmodified rendered haproxy.cfg (bind *:6443) and the rendered keepalived.conf with its
 * production timing; only the paths of the include and the check script point into the temp dir.
 * The include is written by the rendered boot-time interface script, run in each namespace, and
 * the check is the rendered check script (curl /healthz through the namespace's own HAProxy).
 *
 * A stand-in API server answers /whoami with its name and the address HAProxy connected from,
 * so each probe through the VIP shows which load balancer carried it.
 *
 * Phases: A lb-1's HAProxy dies → the VIP moves to lb-2; B it comes back → the VIP returns to
 * lb-1 (preemption, as rendered); C lb-1 "crashes" (its link goes down, keepalived is SIGKILLed)
 * → lb-2 takes over when its master-down timer expires; D lb-1 "reboots" (stale VIP gone, link
 * up, keepalived started) → the VIP returns. Bounds come from the rendered timing (see
 * keepalived-config.ts): A fall×interval + (timeout+1) + 4×advert, B and D rise×interval +
 * (timeout+1) + 4×advert, C 4×advert; each plus SLACK_MS.
 */

const CIDR = '10.213.99.0/24';
const VIP = '10.213.99.2';
const CLIENT_IP = '10.213.99.200';
/** Added to every bound: process start-up, the 100 ms polls, GARP and the client's next probe. */
const SLACK_MS = 1500;
/** How long each phase keeps going after its change, to judge the steady state. */
const SETTLE_MS = 2000;
const PROBE_EVERY_MS = 100;
const PROBE_TIMEOUT_MS = 800;
/**
 * Every process is told to exit by then anyway. The test asserts it ended within 80 s; its timeout (150 s) and
 * this lifetime leave room beyond the sum of its waits' bounds, so a slow run fails on a bound, with its message.
 */
const LIFETIME_MS = 140_000;

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lab = new NetnsLab('k8slab-vip');
afterAll(() => lab.destroy());

/** Whether `ns`'s lan0 holds the VIP right now. */
async function holdsVip(ns: string): Promise<boolean> {
  const { stdout } = await exec('ip', ['-n', ns, '-o', '-4', 'addr', 'show', 'dev', 'lan0'], { env: { ...process.env, PATH: TOOL_PATH } });
  return stdout.includes(` ${VIP}/`);
}

/** Polls every 100 ms until `ns` holds (or, with want=false, no longer holds) the VIP; resolves with the time it did. */
async function waitVip(ns: string, want: boolean, since: number, timeoutMs: number, why: () => string): Promise<number> {
  for (;;) {
    const at = Date.now();
    if ((await holdsVip(ns)) === want) return at;
    if (at - since > timeoutMs) throw new Error(`${ns} ${want ? 'did not get' : 'kept'} ${VIP} within ${timeoutMs} ms\n${why()}`);
    await sleep(100);
  }
}

test('the API virtual IP moves to the healthy load balancer within the bounds of the rendered timing, and back to lb-1 (preempt)', async () => {
  // GIVEN namespaces, the project's plan for 10.213.99.0/24 with two load balancers, and its rendered files
  NetnsLab.assertAvailable();
  const plan = planCluster(parseClusterSpec({ network: { cidr: CIDR }, loadBalancer: { count: 2, virtualIp: VIP } }).spec);
  const [lb1, lb2] = plan.loadBalancers;
  expect([plan.apiEndpoint.ip, lb1.ip, lb2.ip, ...plan.controlPlanes.map((c) => c.ip)]).toEqual([VIP, '10.213.99.5', '10.213.99.6', '10.213.99.10', '10.213.99.11', '10.213.99.12']);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vip-failover-'));
  fs.chmodSync(tmp, 0o755); // keepalived's script security: no directory on the script's path writable by others
  try {
    const ns = { sw: lab.addNamespace('sw'), lb1: lab.addNamespace('lb1'), lb2: lab.addNamespace('lb2'), cp: lab.addNamespace('cp'), client: lab.addNamespace('client') };
    lab.ip(ns.sw, ['link', 'add', 'br0', 'type', 'bridge']);
    lab.ip(ns.sw, ['link', 'set', 'br0', 'up']);
    const members: [keyof typeof ns, string[]][] = [
      ['lb1', [lb1.ip]],
      ['lb2', [lb2.ip]],
      ['cp', plan.controlPlanes.map((c) => c.ip)],
      ['client', [CLIENT_IP]],
    ];
    for (const [name, ips] of members) {
      lab.ip(ns.sw, ['link', 'add', `p-${name}`, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', ns[name]]);
      lab.ip(ns.sw, ['link', 'set', `p-${name}`, 'master', 'br0', 'up']);
      for (const ip of ips) {
        expect(ip.startsWith('10.213.99.')).toBe(true); // only the test's own network, only inside its namespaces
        lab.ip(ns[name], ['addr', 'add', `${ip}/24`, 'dev', 'lan0']);
      }
      lab.ip(ns[name], ['link', 'set', 'lan0', 'up']);
    }

    // ... stand-in API servers on the control planes' addresses, and the client's CA
    makeThrowawayCert(tmp, [VIP]);
    const caFile = path.join(tmp, 'stand-in.crt');
    const node = process.execPath;
    const cps = lab.start(ns.cp, 'stand-in API servers', node, ['-e', STAND_IN_API_SERVERS_JS, caFile, path.join(tmp, 'stand-in.key'), String(LIFETIME_MS), ...plan.controlPlanes.map((c) => `${c.hostname}=${c.ip}`)]);

    // ... on each load balancer: the rendered haproxy.cfg, the include written by the rendered boot-time script, the rendered check script and keepalived.conf
    const haproxyCfg = path.join(tmp, 'haproxy.cfg');
    fs.writeFileSync(haproxyCfg, haproxyConfigForCluster(plan));
    const lbFiles = [lb1, lb2].map((lb, i) => {
      const tag = `lb${i + 1}`;
      const stepFiles = keepalivedStep(plan, lb).files;
      const write = (vmPath: string, name: string) => {
        const f = stepFiles.find((x) => x.path === vmPath)!;
        const out = path.join(tmp, name);
        fs.writeFileSync(out, f.content);
        fs.chmodSync(out, parseInt(f.permissions!, 8));
        return out;
      };
      const interfaceScript = write('/usr/local/sbin/k8s-lab-keepalived-interface', `${tag}-interface.sh`);
      const checkScript = write(KEEPALIVED_CHECK_SCRIPT_PATH, `${tag}-check.sh`);
      const interfaceFile = path.join(tmp, `${tag}-interface.conf`);
      const lookup = lab.run(ns[tag as 'lb1' | 'lb2'], 'bash', [interfaceScript, interfaceFile]);
      if (lookup.status !== 0) throw new Error(`interface lookup failed in ${tag}: ${lookup.output}`);
      expect(fs.readFileSync(interfaceFile, 'utf8')).toContain(`$${KEEPALIVED_INTERFACE_PARAMETER}=lan0`);
      const config = path.join(tmp, `${tag}-keepalived.conf`);
      const text = renderKeepalivedConfig(plan, lb, { interfaceFile, checkScript });
      fs.writeFileSync(config, text);
      const check = lab.run(ns[tag as 'lb1' | 'lb2'], 'keepalived', ['-t', '-f', config]);
      if (check.status !== 0) throw new Error(`keepalived -t rejected ${tag}'s config: ${check.output}`);
      return { tag, config, text, pids: ['p', 'r', 'c'].map((k) => path.join(tmp, `${tag}-${k}.pid`)) };
    });
    const timing = timingOf(lbFiles[0].text);
    expect(timingOf(lbFiles[1].text)).toEqual(timing);
    const bounds = { failover: keepalivedFailoverBoundMs(timing) + SLACK_MS, failback: keepalivedFailbackBoundMs(timing) + SLACK_MS, masterDown: keepalivedMasterDownBoundMs(timing) + SLACK_MS };

    const haproxy = (tag: 'lb1' | 'lb2') => lab.start(ns[tag], `haproxy ${tag}`, 'haproxy', ['-db', '-f', haproxyCfg]);
    const keepalived = (i: 0 | 1) => {
      const f = lbFiles[i];
      return lab.start(ns[f.tag as 'lb1' | 'lb2'], `keepalived ${f.tag}`, 'keepalived', ['-n', '-l', '-G', '-D', '-P', '-f', f.config, '-p', f.pids[0], '-r', f.pids[1], '-c', f.pids[2]]);
    };
    const processes: NetnsProcess[] = [cps];
    const tails = () => processes.map((p) => `--- ${p.name}${p.exited ? ` (exited ${JSON.stringify(p.exited)})` : ''}:\n${p.lines.slice(-12).map((l) => `  ${l.text}`).join('\n')}`).join('\n');
    let hap1 = haproxy('lb1');
    const hap2 = haproxy('lb2');
    let ka1 = keepalived(0);
    const ka2 = keepalived(1);
    processes.push(hap1, hap2, ka1, ka2);

    // WHEN start: lb-1 (state MASTER, priority 101) takes the VIP; the client probes it
    const t0 = Date.now();
    const startedAt = await waitVip(ns.lb1, true, t0, 15_000, tails);
    const client = lab.start(ns.client, 'client', node, ['-e', PROBE_LOOP_JS, VIP, '6443', caFile, String(PROBE_EVERY_MS), String(PROBE_TIMEOUT_MS), String(LIFETIME_MS - (Date.now() - t0))]);
    processes.push(client);
    await sleep(3000);
    const a0 = Date.now();

    // ... phase A: lb-1's HAProxy dies (its health check now fails: priority 101 - 2 = 99 < 100)
    await lab.stop(hap1, 'SIGKILL');
    const aMoved = await waitVip(ns.lb2, true, a0, bounds.failover + 5000, tails);
    const aLeft = await waitVip(ns.lb1, false, aMoved, 5000, tails); // within 5 s of lb-2 taking it
    await sleep(SETTLE_MS);

    // ... phase B: it comes back (rise passes restore 101 > 100: lb-1 preempts)
    const b0 = Date.now();
    hap1 = haproxy('lb1');
    processes.push(hap1);
    const bBack = await waitVip(ns.lb1, true, b0, bounds.failback + 5000, tails);
    const bLeft = await waitVip(ns.lb2, false, b0, bounds.failback + 5000, tails);
    await sleep(SETTLE_MS);

    // ... phase C: lb-1 crashes: its network goes, keepalived is killed without a word (no priority-0 advert)
    const c0 = Date.now();
    lab.ip(ns.lb1, ['link', 'set', 'lan0', 'down']);
    await lab.stop(ka1, 'SIGKILL');
    const cMoved = await waitVip(ns.lb2, true, c0, bounds.masterDown + 5000, tails);
    await sleep(SETTLE_MS);

    // ... phase D: lb-1 reboots: no stale address (a fresh boot has none), link up, keepalived starts
    const d0 = Date.now();
    lab.ip(ns.lb1, ['addr', 'flush', 'dev', 'lan0']);
    lab.ip(ns.lb1, ['addr', 'add', `${lb1.ip}/24`, 'dev', 'lan0']);
    lab.ip(ns.lb1, ['link', 'set', 'lan0', 'up']);
    ka1 = keepalived(0);
    processes.push(ka1);
    const dBack = await waitVip(ns.lb1, true, d0, bounds.failback + 5000, tails);
    const dLeft = await waitVip(ns.lb2, false, d0, bounds.failback + 5000, tails);
    await sleep(SETTLE_MS);
    const end = Date.now();
    await lab.stop(client);

    // THEN figures
    const probes = probesOf(client.lines);
    const via = (p: Probe) => /via (\S+)$/.exec(p.body ?? '')?.[1];
    const window = (from: number, to: number) => probes.filter((p) => p.s >= from && p.e < to);
    const firstVia = (ip: string, from: number) => probes.find((p) => p.s >= from && via(p) === ip);
    const outage = (from: number, to: number) => {
      const w = probes.filter((p) => p.s >= from && p.s < to);
      const failed = w.filter((p) => p.err !== undefined);
      return { failed: failed.length, of: w.length, spanMs: failed.length ? Math.max(...failed.map((p) => p.e)) - Math.min(...failed.map((p) => p.s)) : 0 };
    };
    const phases = [
      { phase: 'A lb-1 HAProxy killed', t: a0, vipAt: aMoved, bound: bounds.failover, to: lb2.ip, next: b0 },
      { phase: 'B lb-1 HAProxy back (preempt)', t: b0, vipAt: bBack, bound: bounds.failback, to: lb1.ip, next: c0 },
      { phase: 'C lb-1 crashed (link down, keepalived SIGKILL)', t: c0, vipAt: cMoved, bound: bounds.masterDown, to: lb2.ip, next: d0 },
      { phase: 'D lb-1 rebooted (preempt)', t: d0, vipAt: dBack, bound: bounds.failback, to: lb1.ip, next: end },
    ];
    console.log(
      [
        `VIP failover in network namespaces, rendered timing: advert_int ${timing.advertIntSec} s, check interval ${timing.checkIntervalSec} s, timeout ${timing.checkTimeoutSec + 1} s, fall ${timing.fall}, rise ${timing.rise}; ` +
          `a probe every ${PROBE_EVERY_MS} ms (timeout ${PROBE_TIMEOUT_MS} ms); bounds include ${SLACK_MS} ms slack; lb-1 took the VIP ${startedAt - t0} ms after keepalived started`,
        ['phase', 'VIP moved after', 'bound', 'first probe via new LB after', 'failed probes / probes in phase', 'failed span'].join(' | '),
        ...phases.map((p) => {
          const first = firstVia(p.to, p.t);
          const o = outage(p.t, p.next);
          return [p.phase, `${p.vipAt - p.t} ms`, `${p.bound} ms`, first ? `${first.e - p.t} ms` : 'never', `${o.failed} / ${o.of}`, `${o.spanMs} ms`].join(' | ');
        }),
        `previous holder released it: A lb-1 after ${aLeft - a0} ms, B lb-2 after ${bLeft - b0} ms, D lb-2 after ${dLeft - d0} ms`,
      ].join('\n'),
    );

    // ... before anything failed: every probe answered, through lb-1
    const steady = window(startedAt + 1500, a0);
    expect(steady.length).toBeGreaterThan(10);
    expect(steady.filter((p) => p.err)).toEqual([]);
    expect([...new Set(steady.map(via))]).toEqual([lb1.ip]);
    // ... each change within its bound, and afterwards (SETTLE_MS) every probe answered through the new holder
    for (const p of phases) {
      expect({ phase: p.phase, ms: p.vipAt - p.t, within: p.vipAt - p.t <= p.bound }).toEqual({ phase: p.phase, ms: p.vipAt - p.t, within: true });
      const after = window(p.vipAt + 1000, p.next);
      expect(after.length).toBeGreaterThan(5);
      expect({ phase: p.phase, failed: after.filter((x) => x.err) }).toEqual({ phase: p.phase, failed: [] });
      expect({ phase: p.phase, via: [...new Set(after.map(via))] }).toEqual({ phase: p.phase, via: [p.to] });
    }
    // ... and at the end lb-1 holds the VIP and lb-2 does not (each earlier holder's release was waited for above)
    expect(await holdsVip(ns.lb2)).toBe(false);
    expect(await holdsVip(ns.lb1)).toBe(true);
    expect(end - t0).toBeLessThan(80_000);
  } finally {
    await lab.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, 150_000);

/** The timing keepalived actually runs, read back from the rendered file (not from what the test meant to ask). */
function timingOf(text: string): KeepalivedTiming {
  const num = (key: string) => {
    const m = new RegExp(`^\\s*${key} (\\d+)$`, 'm').exec(text);
    if (!m) throw new Error(`the rendered keepalived.conf has no "${key} N" line`);
    return Number(m[1]);
  };
  return { advertIntSec: num('advert_int'), checkIntervalSec: num('interval'), checkTimeoutSec: num('timeout') - 1, fall: num('fall'), rise: num('rise') };
}
