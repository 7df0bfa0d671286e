import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { killStrays, RUN_MARK_VARIABLE } from '../deploy/support/cdktf-cli';
import { adoptDaemonsOfDeadRuns, stopStartedLibvirtd } from '../deploy/support/libvirt-host';
import { aGonePid, runningCommand } from '../support/processes';

// How the deploy tier stops what it started, run here with real processes (`sleep`s stand in for them):
// - the libvirtd and virtlogd it started, by the pids scripts/libvirtd.sh recorded in a file named with the run's
//   pid. A run killed before its cleanup leaves both running and its record behind; the next run takes the record
//   over and stops them with its own (the record names a daemon by its /proc comm, so `sleep` is recorded as `sleep`);
// - what a timed-out `cdktf` run started (terraform, the provider), by the mark in their environment.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-tier-daemons-'));
const ours = path.join(dir, `k8s-lab-libvirtd-started-${process.pid}`);
const started: ChildProcess[] = [];
/** A `sleep` this test started, standing in for a daemon. */
function daemon(): ChildProcess {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  started.push(child);
  return child;
}
const isRunning = (pid: number) => runningCommand(pid) !== undefined;
/** Processes a test started that are not its children (a `setsid` grandchild). */
const otherPids: number[] = [];
const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null && fs.existsSync(`/proc/${child.pid}`);
const exited = (child: ChildProcess) => new Promise<string | null>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.signalCode) : child.once('exit', (_c, s) => resolve(s))));

afterAll(() => {
  for (const child of started) if (alive(child)) child.kill('SIGKILL');
  for (const pid of otherPids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a killed run\'s daemons that still run are adopted and stopped with this run\'s; its record is removed', async () => {
  // GIVEN a record left by a run that is gone, naming two running daemons and one that has exited
  const virtlogd = daemon();
  const libvirtd = daemon();
  const killedRun = path.join(dir, `k8s-lab-libvirtd-started-${aGonePid()}`);
  fs.writeFileSync(killedRun, `sleep ${virtlogd.pid}\nsleep ${aGonePid()}\nsleep ${libvirtd.pid}\n`);
  expect(runningCommand(libvirtd.pid!)).toBe('sleep');
  // WHEN this run adopts, then stops what it started
  adoptDaemonsOfDeadRuns(dir, ours);
  // THEN the running two are in this run's record and the killed run's record is gone
  expect(fs.readFileSync(ours, 'utf8')).toBe(`sleep ${virtlogd.pid}\nsleep ${libvirtd.pid}\n`);
  expect(fs.existsSync(killedRun)).toBe(false);
  stopStartedLibvirtd(ours);
  // AND both were stopped by SIGTERM, and this run's record is removed
  await expect(exited(libvirtd)).resolves.toBe('SIGTERM');
  await expect(exited(virtlogd)).resolves.toBe('SIGTERM');
  expect(fs.existsSync(ours)).toBe(false);
});

test('a live run\'s record is left alone, and a recorded pid that now runs another program is not taken for the daemon', async () => {
  // GIVEN a live run (a process that still runs) with its record, and a dead run whose recorded libvirtd pid now runs `sleep`
  const liveRun = daemon();
  const itsDaemon = daemon();
  const liveRecord = path.join(dir, `k8s-lab-libvirtd-started-${liveRun.pid}`);
  fs.writeFileSync(liveRecord, `sleep ${itsDaemon.pid}\n`);
  const reused = daemon();
  const killedRun = path.join(dir, `k8s-lab-libvirtd-started-${aGonePid()}`);
  fs.writeFileSync(killedRun, `libvirtd ${reused.pid}\n`);
  // WHEN this run adopts and stops
  adoptDaemonsOfDeadRuns(dir, ours);
  stopStartedLibvirtd(ours);
  // THEN the live run's record and daemon are untouched, the reused pid still runs, and nothing was adopted
  expect(fs.readFileSync(liveRecord, 'utf8')).toBe(`sleep ${itsDaemon.pid}\n`);
  expect(alive(itsDaemon)).toBe(true);
  expect(alive(reused)).toBe(true);
  expect(fs.existsSync(killedRun)).toBe(false);
  expect(fs.existsSync(ours)).toBe(false);
});

test('a timed-out CLI run\'s strays are found by its mark: its processes, also one in a session of its own, and no other', async () => {
  // GIVEN a run's processes (one started with setsid, as cdktf starts terraform in a pseudo-terminal), a process of
  // another run, and one with no mark
  const mark = `test-${process.pid}-${Date.now()}`;
  const run = spawn('bash', ['-c', 'setsid sleep 300 & echo $!; exec sleep 300'], { env: { ...process.env, [RUN_MARK_VARIABLE]: mark }, stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(run);
  const detachedPid = await new Promise<number>((resolve) => run.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  otherPids.push(detachedPid);
  const otherRun = spawn('sleep', ['300'], { env: { ...process.env, [RUN_MARK_VARIABLE]: `${mark}-other` }, stdio: 'ignore' });
  const unmarked = daemon();
  started.push(otherRun);
  // WHEN the strays of the run are killed
  const killed = killStrays(mark);
  // THEN both of the run's processes are gone (SIGKILL), and the others still run
  expect(killed).toBe(2);
  await expect(exited(run)).resolves.toBe('SIGKILL');
  for (let i = 0; i < 50 && isRunning(detachedPid); i++) await new Promise((r) => setTimeout(r, 100));
  expect(isRunning(detachedPid)).toBe(false);
  expect(alive(otherRun)).toBe(true);
  expect(alive(unmarked)).toBe(true);
});
