import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runWithTools } from '../../support/tools';

/** Where one test cluster's CLI runs read their spec and secrets and write their synth output. */
export interface CdktfRunOptions {
  /** The spec file (CLUSTER_CONFIG). */
  readonly specFile: string;
  /** The secrets directory (K8S_LAB_SECRETS_DIR of main.ts). */
  readonly secretsDir: string;
  /** The synth output directory (`--output`), apart from the working tree's cdktf.out/. */
  readonly outDir: string;
  /** Kill the CLI after this long. */
  readonly timeoutMs: number;
}

/** What one CLI run printed (without colour codes), how it ended, and how long it took. */
export interface CdktfRun {
  readonly status: number | null;
  readonly output: string;
  readonly seconds: number;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/**
 * Runs the project's real CLI path, `npx cdktf <command>`, non-interactively with the project's
 * tools (.tools/env: TF_CLI_CONFIG_FILE points Terraform at the local provider mirror), once, at
 * Terraform's default parallelism, as `npm run deploy` / `diff` / `destroy` do.
 *
 * `--skip-provider-lock`: after `terraform init`, cdktf otherwise runs `terraform providers lock
 * -platform=linux_amd64`, which asks the Terraform registry for the provider's checksums and fails
 * where the registry is unreachable. `terraform init` still writes the lock file, from the mirror.
 *
 * No run is repeated: the NoCloud seeds are plain volumes, whose refresh reads only metadata, so
 * provider v0.8.3's ISO read-back fault (README, "A fault of the provider") has nothing to strike;
 * `npm run bench:fault` measured it gone. A run that outlives `timeoutMs` is killed with everything
 * it started (terraform and the provider would otherwise keep the state lock) and is a failure.
 */
export function cdktf(command: 'deploy' | 'diff' | 'destroy', options: CdktfRunOptions): CdktfRun {
  return cdktfOnce(command, options, options.timeoutMs);
}

function cdktfOnce(command: 'deploy' | 'diff' | 'destroy', options: CdktfRunOptions, timeoutMs: number): CdktfRun {
  const args = [command, '--skip-provider-lock', '--output', options.outDir];
  if (command !== 'diff') args.push('--auto-approve');
  const started = Date.now();
  // Every process this run starts inherits this variable: what a timeout leaves behind is found by it (killStrays).
  const runMark = `${process.pid}-${crypto.randomBytes(8).toString('hex')}`;
  // cdktf runs `terraform apply` in a pseudo-terminal and can lose its last output, errors included
  // (seen: a failed deploy that printed no error at all). Terraform's own
  // log keeps them: its ERROR lines go to a file of this run, and their errors join the output.
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-terraform-log-'));
  const logFile = path.join(logDir, 'terraform.log');
  const terraformErrors = () => (fs.existsSync(logFile) ? terraformLogErrors(fs.readFileSync(logFile, 'utf8')) : []);
  try {
    let run;
    try {
      run = runWithTools('npx', ['cdktf', ...args], {
        timeoutMs,
        env: {
          CI: '1',
          FORCE_COLOR: '0',
          TF_IN_AUTOMATION: '1',
          CHECKPOINT_DISABLE: '1',
          TF_LOG: 'ERROR',
          TF_LOG_PATH: logFile,
          CLUSTER_CONFIG: options.specFile,
          K8S_LAB_SECRETS_DIR: options.secretsDir,
          [RUN_MARK_VARIABLE]: runMark,
        },
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw e;
      // spawnSync killed only the CLI: terraform and the provider below it keep the state lock.
      killStrays(runMark);
      const output = [`cdktf ${command} killed after ${timeoutMs / 1000} s`, ...terraformErrors()].join('\n');
      return { status: null, output, seconds: (Date.now() - started) / 1000 };
    }
    const output = [`${run.stdout}\n${run.stderr}`.replace(ANSI, ''), ...terraformErrors()].join('\n');
    return { status: run.status, output, seconds: (Date.now() - started) / 1000 };
  } finally {
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}

/**
 * The errors of a Terraform log (TF_LOG=ERROR): each resource's error, from lines such as
 * `[ERROR] vertex "libvirt_x.y" error: <message>`, as `Error: <message> (libvirt_x.y, from Terraform's log)`, each once.
 */
export function terraformLogErrors(log: string): string[] {
  const errors = new Set<string>();
  for (const m of log.matchAll(/\[ERROR\] vertex "([^"]+?)(?: \(expand\))?" error: (.*)$/gm)) errors.add(`Error: ${m[2]} (${m[1]}, from Terraform's log)`);
  return [...errors];
}

/** The variable that marks every process of one CLI run (its value is unique to the run). */
export const RUN_MARK_VARIABLE = 'K8S_LAB_DEPLOY_TIER_RUN';

/**
 * Kills what one CLI run started and a timeout left running: the processes whose environment carries the run's
 * mark (RUN_MARK_VARIABLE=mark), which every process it started inherits. Not its process group: cdktf runs
 * terraform in a pseudo-terminal, a session of its own. Returns how many it killed.
 */
export function killStrays(mark: string): number {
  const marked = `${RUN_MARK_VARIABLE}=${mark}`;
  let killed = 0;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    let environ: string[];
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (environ.includes(marked)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
  }
  return killed;
}

/**
 * Throws unless the run exited 0: with the output's error lines first (a deploy's output can be long
 * enough that they fall outside its last lines), then the end of the output.
 */
export function mustSucceed(run: CdktfRun, what: string): CdktfRun {
  if (run.status !== 0) {
    const errors = errorLines(run.output);
    throw new Error(`${what} exited ${run.status}; its error lines:\n${errors.join('\n') || '(none)'}\nthe end of its output:\n${run.output.slice(-6000)}`);
  }
  return run;
}

/** The lines of a CLI output that report an error (Terraform's and cdktf's "Error: …"), each once. */
export function errorLines(output: string): string[] {
  return [...new Set(output.split('\n').map((l) => l.trim()).filter((l) => /(^|\s)Error:/.test(l)))];
}

/** Terraform's one-line totals: "Plan: 3 to add, 1 to change, 0 to destroy." and the like. */
export interface PlanTotals {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
}

/** The "Plan: …" totals of a diff, undefined when there is none (e.g. "No changes."). */
export function planTotals(output: string): PlanTotals | undefined {
  const m = /Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\./.exec(output);
  return m ? { add: +m[1], change: +m[2], destroy: +m[3] } : undefined;
}

/** The "Apply complete! Resources: …" totals of a deploy. */
export function applyTotals(output: string): { added: number; changed: number; destroyed: number } | undefined {
  const m = /Apply complete! Resources: (\d+) added, (\d+) changed, (\d+) destroyed\./.exec(output);
  return m ? { added: +m[1], changed: +m[2], destroyed: +m[3] } : undefined;
}

/** The "Destroy complete! Resources: N destroyed." count of a destroy. */
export function destroyedCount(output: string): number | undefined {
  const m = /Destroy complete! Resources: (\d+) destroyed\./.exec(output);
  return m ? +m[1] : undefined;
}

/** What a plan does to each resource, by construct path (the "(Cluster/…)" of cdktf's plan lines). */
export interface PlannedActions {
  readonly created: readonly string[];
  readonly updated: readonly string[];
  readonly replaced: readonly string[];
  readonly destroyed: readonly string[];
}

/**
 * Reads Terraform's per-resource plan lines, e.g.
 * `# libvirt_domain.Cluster_..._Domain_DCA40757 (Cluster/WorkerPool-ci/Node2/Domain) will be created`.
 */
export function plannedActions(output: string): PlannedActions {
  const found = { created: [] as string[], updated: [] as string[], replaced: [] as string[], destroyed: [] as string[] };
  // A replacement that a lifecycle replace_triggered_by asks for reads "will be replaced due to changes in replace_triggered_by".
  const line = /# \S+ \(([^)]+)\) (will be created|will be updated in-place|must be replaced|will be replaced due to changes in replace_triggered_by|will be destroyed)/g;
  for (const m of output.matchAll(line)) {
    const key = (
      {
        'will be created': 'created',
        'will be updated in-place': 'updated',
        'must be replaced': 'replaced',
        'will be replaced due to changes in replace_triggered_by': 'replaced',
        'will be destroyed': 'destroyed',
      } as const
    )[m[2] as 'will be created'];
    found[key].push(m[1]);
  }
  for (const list of Object.values(found)) list.sort();
  return found;
}
