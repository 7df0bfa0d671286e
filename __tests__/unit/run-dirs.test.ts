import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { aGonePid, processIsGone } from '../support/processes';
import { makeRunDir, removeRunDirsOfDeadRuns } from '../support/run-dirs';

// The tiers' work folders in /tmp are named with their run's pid, so the next run removes those of runs killed
// before their cleanup (the end-to-end tier's holds a cluster's CA keys). Run here on real folders and processes.

const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'run-dirs-'));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  fs.rmSync(parent, { recursive: true, force: true });
});


test('a dead run\'s folder is removed with what is in it; a live run\'s, this run\'s and other names are kept', () => {
  // GIVEN folders of a dead run, of a live run (a process this test started), of this run, and of another prefix
  const live = spawn('sleep', ['300'], { stdio: 'ignore' });
  started.push(live);
  const dead = fs.mkdtempSync(path.join(parent, `k8s-lab-t-${aGonePid()}-ha-`));
  fs.writeFileSync(path.join(dead, 'ca.key'), 'fake\n');
  const alive = fs.mkdtempSync(path.join(parent, `k8s-lab-t-${live.pid}-vip-`));
  const ours = makeRunDir('k8s-lab-t-', 'ha', parent);
  const other = fs.mkdtempSync(path.join(parent, `k8s-lab-tt-${aGonePid()}-ha-`));
  // WHEN the dead runs' folders are removed
  const removed = removeRunDirsOfDeadRuns('k8s-lab-t-', parent);
  // THEN only the dead run's went
  expect(removed).toEqual([dead]);
  expect([dead, alive, ours, other].map((d) => fs.existsSync(d))).toEqual([false, true, true, true]);
  expect(path.basename(ours)).toMatch(new RegExp(`^k8s-lab-t-${process.pid}-ha-`));
  expect(fs.statSync(ours).mode & 0o777).toBe(0o700);
});

test('a prefix or label that could name another folder is refused', () => {
  expect(() => makeRunDir('k8s-lab-t', 'ha', parent)).toThrow(/prefix and label must be a-z, 0-9, '-'/);
  expect(() => makeRunDir('k8s-lab-t-', '../ha', parent)).toThrow(/prefix and label/);
});

test('processIsGone: a running process is not gone, an exited one is, and a damaged pid names no process', () => {
  const live = spawn('sleep', ['300'], { stdio: 'ignore' });
  started.push(live);
  expect([processIsGone(live.pid!), processIsGone(process.pid), processIsGone(aGonePid())]).toEqual([false, false, true]);
  expect([processIsGone(0), processIsGone(-1), processIsGone(Number.NaN)]).toEqual([true, true, true]);
});
