import { SpawnSyncReturns, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..', '..');
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
