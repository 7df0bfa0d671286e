import { spawnSync } from 'child_process';
import { processIsGone } from './processes';
import { literal } from './regexp';
import { TOOL_PATH } from './tools';

/**
 * The network namespaces a tier names `<prefix>-<pid>` or `<prefix>-<pid>-<name>` whose run (process `pid`) is
 * gone: what a run killed before its cleanup left. This process's own, and those of a live process, are not listed.
 * Each entry gives the namespace and the pid of the run that made it.
 */
export function namespacesOfDeadRuns(prefix: string): { readonly namespace: string; readonly pid: number }[] {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', env: { ...process.env, PATH: TOOL_PATH } }).stdout ?? '';
  const pattern = new RegExp(`^${literal(prefix)}-(\\d+)(-\\S+)?$`);
  const dead: { namespace: string; pid: number }[] = [];
  for (const line of listed.split('\n')) {
    const namespace = line.trim().split(/\s+/)[0];
    const m = pattern.exec(namespace);
    if (!m || Number(m[1]) === process.pid || !processIsGone(Number(m[1]))) continue;
    dead.push({ namespace, pid: Number(m[1]) });
  }
  return dead;
}
