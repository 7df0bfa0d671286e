/**
 * `npm run bench:fault`: does provider v0.8.3's read-back fault (README, "A fault of the provider") still
 * strike? It ran the same measurement as the README's old table, on the deploy tier's 3-VM test cluster
 * (TEST_CLUSTER, its own network, pool, secrets and state, under the tier's run lock), at Terraform's
 * DEFAULT parallelism (no `--terraform-parallelism` flag, no `-parallelism`), with no retry:
 *   1. `cdktf deploy` once, wait for every DHCP lease, then BENCH_PLANS (default 50) `terraform plan` runs
 *      in the synthesized stack's folder (refresh included: that is where the old resource downloaded);
 *   2. BENCH_CYCLES (default 10) cycles of `cdktf destroy`, `cdktf deploy`, then 3 `cdktf diff`.
 * Each run is classified: ok, hung (no end within BENCH_HANG_S, default 120 s for a plan or diff and
 * 2.5× that for a deploy or destroy; a plan here takes seconds), corrupted-image (the old resource's
 * error), or failed (any other error). On a hang the provider gets SIGQUIT first (its goroutine dump
 * lands in the run's Terraform log, kept and named in the output), then the run is killed.
 * A benchmark, not a test: it prints the README's table rows and exits 1 if any run hung or failed.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildTestImage, startLibvirtd, sweep, waitForLeases } from '../../__tests__/deploy/support/libvirt-host';
import { terraformBinary } from '../../__tests__/support/tools';
import {
  acquireRunLock,
  macToIp,
  OUT_DIR,
  POOL_PATH,
  releaseRunLock,
  SECRETS_DIR,
  STATE_FILES,
  TEST_CLUSTER,
  testSpecDoc,
  WORK_DIR,
  writeSpec,
} from '../../__tests__/deploy/support/test-cluster';

const ROOT = path.resolve(__dirname, '..', '..');
const TOOLS_ENV = path.join(ROOT, '.tools', 'env');

function wholeNumber(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    console.error(`${name} must be a whole number from 0 to ${max}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}
const PLANS = wholeNumber('BENCH_PLANS', 50, 1000);
const CYCLES = wholeNumber('BENCH_CYCLES', 10, 100);
const HANG_S = wholeNumber('BENCH_HANG_S', 120, 3600);
const LOG_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-bench-fault-'));

type Outcome = 'ok' | 'hung' | 'corrupted-image' | 'failed';
interface Run {
  readonly what: string;
  readonly outcome: Outcome;
  readonly seconds: number;
  readonly note?: string;
}

const CORRUPTED = /corrupted-image|error while retrieving remote ISO/;

/** Runs `command args` with the project's tools (.tools/env), in `cwd`; classifies how it ended. */
async function runOnce(what: string, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, hangS: number, index: number): Promise<Run> {
  const logFile = path.join(LOG_DIR, `${what.replace(/\W+/g, '-')}-${index}.log`);
  const started = Date.now();
  const child: ChildProcess = spawn('bash', ['-c', 'source "$1"; shift; exec "$@"', 'bash', TOOLS_ENV, command, ...args], {
    cwd,
    env: { ...process.env, CI: '1', FORCE_COLOR: '0', TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_LOG: 'DEBUG', TF_LOG_PATH: logFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  let hung = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    hung = true;
    // The goroutine dump first (SIGQUIT makes a Go program print every goroutine's stack and exit), then the rest.
    const providers = ours(cwd).filter((p) => p.cmdline.includes('terraform-provider-libvirt'));
    for (const p of providers) signal(p.pid, 'SIGQUIT');
    // Only while this run lasts: once it has ended, the processes working in `cwd` are the next run's.
    killTimer = setTimeout(() => {
      for (const p of ours(cwd)) signal(p.pid, 'SIGKILL');
      signal(child.pid!, 'SIGKILL');
    }, 3_000);
  }, hangS * 1000);
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  clearTimeout(killTimer);
  const seconds = (Date.now() - started) / 1000;
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
  let outcome: Outcome;
  if (hung) outcome = 'hung';
  else if (CORRUPTED.test(output) || /\[ERROR\].*corrupted-image/.test(log)) outcome = 'corrupted-image';
  else outcome = status === 0 || (command === terraformBinary() && status === 2) ? 'ok' : 'failed';
  let note: string | undefined;
  if (outcome === 'ok') fs.rmSync(logFile, { force: true });
  else note = `exit ${status}; Terraform log kept: ${logFile}; last output: ${output.trim().split('\n').slice(-5).join(' | ')}`;
  const run = { what, outcome, seconds, note };
  console.log(`bench:fault: ${what} #${index}: ${outcome} in ${seconds.toFixed(1)} s${note ? ` (${note})` : ''}`);
  return run;
}

/** Processes working in `dir` or below (terraform and its provider), or naming it on their command line (cdktf). */
function ours(dir: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cwd === dir || cwd.startsWith(`${dir}/`) || cmdline.includes(` --output ${OUT_DIR}`)) found.push({ pid, cmdline });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function cdktf(command: 'deploy' | 'diff' | 'destroy', specFile: string, index: number): Promise<Run> {
  const args = ['cdktf', command, '--skip-provider-lock', '--output', OUT_DIR];
  if (command !== 'diff') args.push('--auto-approve');
  const hang = command === 'diff' ? HANG_S : Math.round(HANG_S * 2.5);
  return runOnce(`cdktf ${command}`, 'npx', args, ROOT, { CLUSTER_CONFIG: specFile, K8S_LAB_SECRETS_DIR: SECRETS_DIR }, hang, index);
}

function count(runs: readonly Run[], outcome: Outcome): number {
  return runs.filter((r) => r.outcome === outcome).length;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<number> {
  acquireRunLock();
  const stackDir = path.join(OUT_DIR, 'stacks', TEST_CLUSTER);
  const specFile = path.join(WORK_DIR, 'bench-fault-spec.yaml');
  const plans: Run[] = [];
  const cycles: Run[] = [];
  const started = new Date();
  let resource = '';
  try {
    const { image, kernel } = buildTestImage();
    const domainType = startLibvirtd(kernel);
    sweep(TEST_CLUSTER, POOL_PATH);
    for (const f of STATE_FILES) fs.rmSync(f, { force: true });
    const plan = writeSpec(specFile, testSpecDoc(image, domainType, 1));
    console.log(`bench:fault: ${TEST_CLUSTER}, ${plan.nodes.length} VMs, domain type ${domainType}; ${PLANS} plans, ${CYCLES} cycles, default parallelism`);

    const first = await cdktf('deploy', specFile, 0);
    resource = fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8');
    if (first.outcome !== 'ok') throw new Error(`the first deploy did not succeed: ${first.note}`);
    await waitForLeases(`${TEST_CLUSTER}-net`, macToIp(plan), 300_000);
    for (let i = 1; i <= PLANS; i++) {
      plans.push(await runOnce('terraform plan', terraformBinary(), ['plan', '-input=false', '-no-color', '-detailed-exitcode', '-lock-timeout=60s'], stackDir, {}, HANG_S, i));
    }
    for (let i = 1; i <= CYCLES; i++) {
      cycles.push(await cdktf('destroy', specFile, i));
      cycles.push(await cdktf('deploy', specFile, i));
      for (let d = 0; d < 3; d++) cycles.push(await cdktf('diff', specFile, i * 10 + d));
    }
  } finally {
    await cdktf('destroy', specFile, 999);
    sweep(TEST_CLUSTER, POOL_PATH);
    for (const f of [...STATE_FILES, OUT_DIR, SECRETS_DIR, specFile]) fs.rmSync(f, { recursive: true, force: true });
    releaseRunLock();
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log('');
  console.log(`k8s-lab provider-fault benchmark — started ${started.toISOString()}, ended ${new Date().toISOString()}`);
  console.log(`machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; load average at the end ${load}`);
  console.log('');
  console.log('| what ran | parallelism | runs | hung | corrupted ISO | other failures | median s |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  // What the measured stack gives each VM: the seeds as plain volumes, or the old resource (a control run on
  // an older checkout, which still has libvirt_cloudinit_disk).
  const seeds = resource.includes('libvirt_cloudinit_disk') ? 'old libvirt_cloudinit_disk' : 'seeds as plain volumes';
  const row = (what: string, runs: Run[]) =>
    console.log(`| ${what} | 10 (Terraform's default) | ${runs.length} | ${count(runs, 'hung')} | ${count(runs, 'corrupted-image')} | ${count(runs, 'failed')} | ${median(runs.map((r) => r.seconds)).toFixed(1)} |`);
  row(`\`terraform plan\` in a loop, ${seeds}`, plans);
  row(`\`cdktf\` destroy, deploy, then 3 diffs, ${CYCLES} times, ${seeds}`, cycles);
  const bad = [...plans, ...cycles].filter((r) => r.outcome !== 'ok');
  for (const r of bad) console.log(`- ${r.what}: ${r.outcome} (${r.note})`);
  if (bad.length === 0) fs.rmSync(LOG_DIR, { recursive: true, force: true });
  return bad.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
