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
