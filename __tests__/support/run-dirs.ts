import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { processIsGone } from './processes';
import { literal } from './regexp';

/**
 * A private folder (0700) for one run of a tier, `<prefix><pid>-<label>-XXXXXX` in `parent`: named with the run's
 * pid, so a later run can tell the folder of a run that was killed before its cleanup (removeRunDirsOfDeadRuns).
 */
export function makeRunDir(prefix: string, label: string, parent = os.tmpdir()): string {
  if (!/^[a-z0-9-]+-$/.test(prefix) || !/^[a-z0-9-]+$/.test(label)) throw new Error(`run folder prefix and label must be a-z, 0-9, '-' (the prefix ending in '-'), got ${JSON.stringify(prefix)} and ${JSON.stringify(label)}`);
  return fs.mkdtempSync(path.join(parent, `${prefix}${process.pid}-${label}-`));
}

/**
 * Removes the folders makeRunDir made in `parent` for runs whose process is gone (a run killed by Ctrl-C or a CI
 * timeout: the end-to-end tier's holds the cluster's CA keys, the preflight's a tmpfs mount), each after
 * unmounting whatever is mounted below it. A live run's, and this run's, are left alone. Returns what it removed.
 */
export function removeRunDirsOfDeadRuns(prefix: string, parent = os.tmpdir()): string[] {
  const pattern = new RegExp(`^${literal(prefix)}(\\d+)-`);
  const removed: string[] = [];
  for (const name of fs.readdirSync(parent)) {
    const m = pattern.exec(name);
    if (!m || Number(m[1]) === process.pid || !processIsGone(Number(m[1]))) continue;
    const dir = path.join(parent, name);
    unmountUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/**
 * Lazily unmounts whatever is still mounted below `dir` (dockerd bind-mounts each container's network namespace
 * under its exec root, and one may outlive the daemon; the preflight mounts a small tmpfs), deepest first, so the
 * folder can go.
 */
export function unmountUnder(dir: string): void {
  const prefix = `${path.resolve(dir)}/`;
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && point.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) spawnSync('umount', ['-l', point]);
}
