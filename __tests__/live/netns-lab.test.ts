import { ChildProcess, spawn, spawnSync } from 'child_process';
import { aGonePid } from '../support/processes';
import { NetnsLab } from './support/netns-lab';

// The live tier's network namespaces outlive a run killed before its afterAll (Ctrl-C, a CI timeout). The next
// lab of the same prefix removes them, and what still runs in them; it leaves a live run's alone.

const PREFIX = 'k8slab-sweep';
const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
const namespaces = () => ip('netns', 'list').stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`${PREFIX}-`));


const made: string[] = [];
const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const ns of made) if (namespaces().includes(ns)) ip('netns', 'del', ns);
});

/** Resolves with the child's signal when it exits, or 'still running' after `ms`. */
function exitWithin(child: ChildProcess, ms: number): Promise<NodeJS.Signals | null | 'still running'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('still running'), ms);
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal);
    });
  });
}

test('a new lab removes the namespaces of a dead run of its prefix, with the process left in them, and keeps those of live runs', async () => {
  // GIVEN a namespace a dead run left, with a process still in it; one of another run that is alive (a process
  // this test started); and one of this run
  NetnsLab.assertAvailable();
  const otherRun = spawn('sleep', ['300'], { stdio: 'ignore' });
  started.push(otherRun);
  const dead = `${PREFIX}-${aGonePid()}-lb`;
  const alive = `${PREFIX}-${otherRun.pid}-lb`;
  const ours = `${PREFIX}-${process.pid}-lb`;
  for (const ns of [dead, alive, ours]) {
    expect(ip('netns', 'add', ns).status).toBe(0);
    made.push(ns);
  }
  const leftover = spawn('ip', ['netns', 'exec', dead, 'sleep', '300'], { stdio: 'ignore' });
  started.push(leftover);
  for (let i = 0; i < 50 && ip('netns', 'pids', dead).stdout.trim() === ''; i++) await new Promise((r) => setTimeout(r, 100));
  expect(ip('netns', 'pids', dead).stdout.trim()).not.toBe('');
  // WHEN a lab of the same prefix is made
  new NetnsLab(PREFIX);
  // THEN the dead run's namespace is gone and its process killed; the live run's and this run's are still there
  expect(await exitWithin(leftover, 5_000)).toBe('SIGKILL');
  expect(namespaces().sort()).toEqual([alive, ours].sort());
});
