import { SpawnSyncReturns, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..', '..');
/** The hook that runs .ts files in node, as cdktf.json and the npm scripts do: `node --require REGISTER_TS file.ts`. */
export const REGISTER_TS = path.join(ROOT, 'scripts', 'register-ts.js');
const TOOLS_ENV = path.join(ROOT, '.tools', 'env');

/** What a command printed and how it ended. */
export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `command args` in a shell that sourced .tools/env (written by `npm run tools`), so it
 * sees exactly the project's tools. Fails, naming the tool and `npm run tools`, when either is
 * missing: a real-tool check never passes by skipping.
 */
export function runWithTools(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): RunResult {
  if (!fs.existsSync(TOOLS_ENV)) {
    throw new Error(`${TOOLS_ENV} is missing, so '${command}' cannot be found; run 'npm run tools'`);
  }
  const script = `source "$1"; shift; command -v "$1" >/dev/null || { echo "'$1' is not installed; run 'npm run tools'" >&2; exit 127; }; exec "$@"`;
  const run: SpawnSyncReturns<string> = spawnSync('bash', ['-c', script, 'bash', TOOLS_ENV, command, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    input: options.input,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  if (run.status === 127 && /is not installed; run 'npm run tools'/.test(run.stderr)) throw new Error(run.stderr.trim());
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** PATH for real tools: the project's (.tools/bin), then the caller's, then the sbin folders Debian installs daemons into. */
export const TOOL_PATH = [path.join(ROOT, '.tools', 'bin'), process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(path.delimiter);

/** Fails, naming the tool and `npm run tools`, when `tool` is not installed: a real-tool check never passes by skipping. */
export function requireTool(tool: string): void {
  const found = spawnSync('bash', ['-c', 'command -v "$1"', 'bash', tool], { encoding: 'utf8', env: { ...process.env, PATH: TOOL_PATH } });
  if (found.status !== 0) throw new Error(`'${tool}' is not installed; run 'npm run tools'`);
}

/**
 * Runs a real tool (found on TOOL_PATH) and returns how it ended and everything it printed.
 * Fails, naming the tool and `npm run tools`, when it is not installed.
 */
export function runTool(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): { status: number | null; output: string } {
  const run = spawnSync(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, PATH: TOOL_PATH },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
  });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`'${command}' is not installed; run 'npm run tools'`);
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** The Terraform CLI .tools/env chose (terraform or tofu). */
export function terraformBinary(): string {
  const env = fs.existsSync(TOOLS_ENV) ? fs.readFileSync(TOOLS_ENV, 'utf8') : '';
  return /TERRAFORM_BINARY_NAME=(\S+)/.exec(env)?.[1] ?? 'terraform';
}

/** `terraform init` then `terraform validate -json` in a synthesized stack directory. */
export function terraformValidate(stackDir: string): { valid: boolean; diagnostics: string; raw: RunResult } {
  const tf = terraformBinary();
  const init = runWithTools(tf, [`-chdir=${stackDir}`, 'init', '-input=false', '-no-color', '-backend=false']);
  if (init.status !== 0) throw new Error(`${tf} init failed in ${stackDir}:\n${init.stdout}${init.stderr}`);
  const raw = runWithTools(tf, [`-chdir=${stackDir}`, 'validate', '-json', '-no-color']);
  const result = JSON.parse(raw.stdout) as { valid: boolean; diagnostics: { severity: string; summary: string; detail?: string }[] };
  const diagnostics = result.diagnostics.map((d) => `${d.severity}: ${d.summary}${d.detail ? ` - ${d.detail}` : ''}`).join('\n');
  return { valid: result.valid, diagnostics, raw };
}
