import { spawnSync } from 'child_process';
import * as fs from 'fs';

/**
 * Whether no process has the pid `pid` any more: what a run asks of the leftovers another run named with its pid
 * (a lock, network namespaces, a work folder, a record of daemons). Only ESRCH means gone: a process this one may
 * not signal (EPERM) still runs. A pid that is not a positive whole number (a damaged record) names no process.
 */
export function processIsGone(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * The command name (/proc/PID/stat) of process `pid` while it runs; undefined once it is gone or has exited and
 * waits to be reaped (state Z). Who asks for a recorded pid compares the name, so a reused pid is not taken for it.
 */
export function runningCommand(pid: number | string): string | undefined {
  try {
    const stat = /^\d+ \((.*)\) (\S)/s.exec(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return stat !== null && stat[2] !== 'Z' ? stat[1] : undefined;
  } catch {
    return undefined;
  }
}

/** A pid that no process has any more, for tests: that of a shell this one started and waited for. */
export function aGonePid(): number {
  return Number(spawnSync('bash', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim());
}
