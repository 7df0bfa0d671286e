import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './tools';

/**
 * Every file below `dir`, by relative path: a text file's text (so a failure shows the difference), a
 * binary image's (the NoCloud seeds) SHA-256 of its bytes.
 */
export function outputTree(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs.readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name))
      .sort()
      .map((f) => [path.relative(dir, f), f.endsWith('.iso') ? `sha256:${createHash('sha256').update(fs.readFileSync(f)).digest('hex')}` : fs.readFileSync(f, 'utf8')]),
  );
}

/** Runs a command in the repository root with `env` added; fails with its output when it does not exit 0. */
export function runInRoot(command: string, args: readonly string[], env: NodeJS.ProcessEnv): void {
  const r = spawnSync(command, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
}

/** The permission bits of a file or folder as four octal digits, e.g. `0600`. */
export function fileMode(p: string): string {
  return (fs.statSync(p).mode & 0o777).toString(8).padStart(4, '0');
}
