import { spawn, spawnSync } from 'child_process';
import { NetnsLab } from './support/netns-lab';

// The live tier's network namespaces outlive a run killed before its afterAll (Ctrl-C, a CI timeout). The next
// lab of the same prefix removes them, and what still runs in them; it leaves a live run's alone.

const PREFIX = 'k8slab-sweep';
const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
const namespaces = () => ip('netns', 'list').stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`${PREFIX}-`));

/** A pid that no process has any more: a child that has exited. */
function deadPid(): number {
  const child = spawnSync('true');
  return child.pid!;
}

afterAll(() => {
  for (const ns of namespaces()) ip('netns', 'del', ns);
});

test('a new lab removes the namespaces of a dead run of its prefix, with the process left in them, and keeps a live run\'s', async () => {
  // GIVEN a namespace a dead run left, with a process still in it, and one of this (live) run
  NetnsLab.assertAvailable();
  const dead = `${PREFIX}-${deadPid()}-lb`;
  const live = `${PREFIX}-${process.pid}-lb`;
  for (const ns of [dead, live]) expect(ip('netns', 'add', ns).status).toBe(0);
  const leftover = spawn('ip', ['netns', 'exec', dead, 'sleep', '300'], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => leftover.once('exit', (_code, signal) => resolve(signal === 'SIGKILL' ? 9 : null)));
  for (let i = 0; i < 50 && ip('netns', 'pids', dead).stdout.trim() === ''; i++) await new Promise((r) => setTimeout(r, 100));
  expect(ip('netns', 'pids', dead).stdout.trim()).not.toBe('');
  // WHEN a lab of the same prefix is made
  new NetnsLab(PREFIX);
  // THEN the dead run's namespace is gone and its process killed; this run's namespace is still there
  expect(await exited).toBe(9);
  expect(namespaces()).toEqual([live]);
});
