/**
 * `npm run bench`: measures, in one run on this machine, how long synthesis takes.
 *   - the default cluster vs a bare cdktf app with one output (the framework's floor), as a ratio;
 *   - clusters with 2, 50 and 100 workers; the default and 100 workers also on a first synth (no seed
 *     images written yet: every xorriso runs), the other rows being repeated synths into the same folder;
 *   - `npx cdktf synth` end to end (the CLI's own start-up included);
 *   - `npm run synth`'s script (scripts/synth.sh, which runs the two apps directly) end to end vs the bare
 *     CLI path, the goal's yardstick: `cdktf synth` of the bare app plus `cdk8s synth` of an empty chart
 *     (scripts/bench/bare-chart.ts), each CLI started by node, as a user's `cdktf synth` would be without npx;
 *   - the CLIs' own start-up: `cdktf --version` started by node and by npx;
 *   - the three ratios the synth goals are stated in (issue 15), each a ratio of medians, against its goal;
 *   - the cluster's resources made by cdktf alone (scripts/bench/resources-only.ts: nothing of ours, with and
 *     without yaml and zod loaded), and from them the lowest the two app ratios could be if our code cost nothing.
 * Each figure is the median of RUNS runs (env BENCH_RUNS, default 5) of a fresh process, the way cdktf runs
 * the app; the rows of one table take turns, run by run, so a change in the machine's load falls on all of
 * them alike. The load average is printed before and after. A benchmark, not a test: it asserts nothing.
 *   - when a libvirt daemon answers (and we are root, as scripts/libvirtd.sh needs): `cdktf deploy`
 *     and `cdktf destroy` of the deploy tier's small test cluster (1 LB, 1 control plane, 1 worker,
 *     its own network and pool), median of min(RUNS, 3) cycles. BENCH_DEPLOY=0 skips it.
 *   - when the node image is built (`npm run image`) and dockerd is installed: the end-to-end tier's
 *     default HA topology as container nodes — "spec → all nodes Ready" and "spec → workloads ready"
 *     (deployment/web rolled out), median of BENCH_E2E_RUNS runs (default min(RUNS, 3)). BENCH_E2E=0 skips it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { cdktf, mustSucceed } from '../__tests__/deploy/support/cdktf-cli';
import { waitForAllNodesReady } from '../__tests__/e2e/support/checks';
import { E2eCluster } from '../__tests__/e2e/support/e2e-cluster';
import { HA_SPEC } from '../__tests__/e2e/support/specs';
import { REGISTER_TS } from '../__tests__/support/tools';
import { applyWorkloads, synthManifests } from '../__tests__/e2e/support/workloads';
import { buildTestImage, startLibvirtd, sweep } from '../__tests__/deploy/support/libvirt-host';
import { OUT_DIR, POOL_PATH, SECRETS_DIR, STATE_FILES, TEST_CLUSTER, WORK_DIR, acquireRunLock, releaseRunLock, testClusterCliOptions, testSpecDoc, writeSpec } from '../__tests__/deploy/support/test-cluster';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 50) {
  console.error(`BENCH_RUNS must be a whole number from 1 to 50, got ${JSON.stringify(process.env.BENCH_RUNS)}`);
  process.exit(2);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-bench-'));
const secretsDir = path.join(work, '.secrets');

/** Wall time of one process, in milliseconds; throws with its output when it fails. */
function timeProcess(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(command, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${run.stdout}${run.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface Row {
  readonly name: string;
  readonly ms: number;
  readonly runs: number[];
}

/** One thing to time: `run(i)` is the i-th run's wall time (ms); `warmUp` runs once, untimed, first. */
interface Case {
  readonly name: string;
  readonly run: (i: number) => number;
  readonly warmUp?: boolean;
}

/** Runs the cases in turns (case 1, case 2, …, then again) `runs` times; the median of each. */
function benchInTurns(cases: readonly Case[], runs: number): Row[] {
  for (const c of cases) if (c.warmUp !== false) c.run(-1); // secrets, disk cache, transpile cache, seed images
  const times = cases.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) cases.forEach((c, k) => times[k].push(c.run(i)));
  return cases.map((c, k) => ({ name: c.name, ms: median(times[k]), runs: times[k] }));
}

/**
 * scripts/bench/resources-only.ts for `vms` nodes with `libraries` loaded, run the way cdktf.json runs main.ts: the
 * cluster's resources from cdktf and the bindings alone, the fastest any implementation on cdktf could synthesize.
 */
function resourcesOnlyCase(name: string, vms: number, libraries: string): Case {
  const out = path.join(work, `out-${name.replace(/\W+/g, '-')}`);
  return { name, warmUp: true, run: () => timeProcess('node', ['--require', REGISTER_TS, 'scripts/bench/resources-only.ts'], { CDKTF_OUTDIR: out, BENCH_VMS: String(vms), BENCH_LIBS: libraries }) };
}

/**
 * A cdktf app file run the way cdktf.json runs main.ts, with the given spec. Repeated runs synthesize into one
 * folder of their own (as repeated `cdktf synth`s do); with `firstSynth`, each run gets a new, empty folder.
 */
function appCase(name: string, appFile: string, spec: object | undefined, firstSynth = false): Case {
  const slug = name.replace(/\W+/g, '-');
  const specFile = path.join(work, `${slug}.yaml`);
  fs.writeFileSync(specFile, YAML.stringify(spec ?? {}));
  return {
    name,
    warmUp: true,
    run: (i) => {
      const out = path.join(work, firstSynth ? `out-${slug}-${i}` : `out-${slug}`);
      const ms = timeProcess('node', ['--require', REGISTER_TS, appFile], { CDKTF_OUTDIR: out, K8S_LAB_SECRETS_DIR: secretsDir, CLUSTER_CONFIG: specFile });
      if (firstSynth) fs.rmSync(out, { recursive: true, force: true });
      return ms;
    },
  };
}

const workers = (n: number) => ({
  network: { cidr: '10.150.0.0/23', addressesPerPool: Math.max(50, n) },
  workerPools: [{ name: 'general', count: n }],
});

/** Can this run deploy? A libvirt daemon answers and we are root (scripts/libvirtd.sh needs it). */
function libvirtAvailable(): boolean {
  if (process.env.BENCH_DEPLOY === '0') return false;
  if (process.getuid?.() !== 0) return false;
  return spawnSync('virsh', ['-c', 'qemu:///system', 'version'], { encoding: 'utf8' }).status === 0;
}

/** Deploy and destroy times (seconds) of the deploy tier's test cluster, `cycles` times. */
function benchDeploy(cycles: number): { deploy: number[]; destroy: number[]; domainType: string } {
  // The same host set-up and cluster as the deploy tier (__tests__/deploy/support), under its lock.
  acquireRunLock();
  try {
    const { image, kernel } = buildTestImage();
    const domainType = startLibvirtd(kernel);
    const specFile = path.join(WORK_DIR, 'bench-spec.yaml');
    writeSpec(specFile, testSpecDoc(image, domainType, 1));
    const options = testClusterCliOptions(specFile, 600_000);
    const deploy: number[] = [];
    const destroy: number[] = [];
    try {
      for (let i = 0; i < cycles; i++) {
        deploy.push(mustSucceed(cdktf('deploy', options), 'cdktf deploy').seconds);
        destroy.push(mustSucceed(cdktf('destroy', options), 'cdktf destroy').seconds);
      }
    } finally {
      cdktf('destroy', options);
      sweep(TEST_CLUSTER, POOL_PATH);
      for (const f of [...STATE_FILES, OUT_DIR, SECRETS_DIR, specFile]) fs.rmSync(f, { recursive: true, force: true });
    }
    return { deploy, destroy, domainType };
  } finally {
    releaseRunLock();
  }
}

/** The synth goals of issue 15: each a ratio of two medians of one run, and its ceiling. */
interface Goal {
  readonly what: string;
  readonly ratio: number;
  readonly atMost: number;
}

const RESOURCES_ONLY = 'cdktf alone: the default cluster\'s resources, nothing of ours (scripts/bench/resources-only.ts)';
const RESOURCES_ONLY_YAML = 'cdktf alone, the default cluster\'s resources, yaml loaded';
const RESOURCES_ONLY_LIBS = 'cdktf alone, the default cluster\'s resources, yaml and zod loaded';
const RESOURCES_ONLY_100 = 'cdktf alone, 100 workers\' resources (104 VMs), yaml and zod loaded';

const CDKTF_CLI = path.join(ROOT, 'node_modules', 'cdktf-cli', 'bundle', 'bin', 'cdktf');
const CDK8S_CLI = path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');

try {
  const loadBefore = os.loadavg();
  const rows = benchInTurns(
    [
      appCase('bare cdktf app (1 output)', 'scripts/bench/bare-app.ts', undefined),
      appCase('default cluster (6 VMs)', 'main.ts', {}),
      appCase('2 workers', 'main.ts', workers(2)),
      appCase('50 workers', 'main.ts', workers(50)),
      appCase('100 workers', 'main.ts', workers(100)),
      appCase('default cluster, first synth (every seed image written)', 'main.ts', {}, true),
      appCase('100 workers, first synth (every seed image written)', 'main.ts', workers(100), true),
      resourcesOnlyCase(RESOURCES_ONLY, 6, ''),
      resourcesOnlyCase(RESOURCES_ONLY_YAML, 6, 'yaml'),
      resourcesOnlyCase(RESOURCES_ONLY_LIBS, 6, 'yaml,zod'),
      resourcesOnlyCase(RESOURCES_ONLY_100, 104, 'yaml,zod'),
    ],
    RUNS,
  );
  const byName = (name: string) => rows.find((r) => r.name === name)!;
  const cliSpec = path.join(work, 'cli.yaml');
  fs.writeFileSync(cliSpec, '{}\n');
  const cliEnv = { CLUSTER_CONFIG: cliSpec, K8S_LAB_SECRETS_DIR: secretsDir, CHECKPOINT_DISABLE: '1', CI: '1' };
  const cli = median(
    Array.from({ length: Math.min(RUNS, 3) }, () => timeProcess('npx', ['cdktf', 'synth', '--output', path.join(work, 'cli-out')], cliEnv)),
  );

  // The bare CLI path and `npm run synth`'s script, in turns; the CLIs started by node (no npx).
  const bareCdktf = () =>
    timeProcess('node', [CDKTF_CLI, 'synth', '--app', `node --require ${REGISTER_TS} scripts/bench/bare-app.ts`, '--output', path.join(work, 'bare-cdktf-out')], cliEnv);
  const bareCdk8s = () =>
    timeProcess('node', [CDK8S_CLI, 'synth', '--app', `node --require ${REGISTER_TS} scripts/bench/bare-chart.ts`, '--output', path.join(work, 'bare-dist'), '--no-check-upgrade'], cliEnv);
  const synthEnv = { ...cliEnv, K8S_LAB_CDKTF_OUT: path.join(work, 'synth-cdktf-out'), K8S_LAB_CDK8S_OUT: path.join(work, 'synth-dist') };
  const cliRows = benchInTurns(
    [
      { name: '`cdktf synth` of the bare app (cdktf CLI)', run: bareCdktf },
      { name: '`cdk8s synth` of an empty chart (cdk8s CLI)', run: bareCdk8s },
      { name: '`npm run synth`\'s script (scripts/synth.sh), default cluster', run: () => timeProcess('bash', ['scripts/synth.sh'], synthEnv) },
      { name: '`cdktf --version`, started by node (the CLI\'s own start-up)', run: () => timeProcess('node', [CDKTF_CLI, '--version'], cliEnv) },
      { name: '`npx cdktf --version` (npx\'s start-up added)', run: () => timeProcess('npx', ['--no-install', 'cdktf', '--version'], cliEnv) },
      { name: '`cdk8s --version`, started by node', run: () => timeProcess('node', [CDK8S_CLI, '--version'], cliEnv) },
    ],
    RUNS,
  );
  // The bare CLI path, run by run: `cdktf synth` of the bare app, then `cdk8s synth` of the empty chart (its next turn).
  const bareRuns = cliRows[0].runs.map((ms, i) => ms + cliRows[1].runs[i]);
  cliRows.splice(2, 0, { name: 'bare CLI path: the two above, one after the other', ms: median(bareRuns), runs: bareRuns });
  const byCliName = (prefix: string) => cliRows.find((r) => r.name.startsWith(prefix))!;
  const loadAfter = os.loadavg();

  const floor = rows[0].ms;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');
  console.log(`k8s-lab synth benchmark — ${new Date().toISOString()}`);
  console.log(`machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; median of ${RUNS} runs`);
  console.log(`load average (1, 5, 15 min): ${load(loadBefore)} before, ${load(loadAfter)} after`);
  console.log('');
  console.log('| what | median ms | × bare app | runs (ms) |');
  console.log('|---|---:|---:|---|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.ms.toFixed(0)} | ${(r.ms / floor).toFixed(2)} | ${r.runs.map((x) => x.toFixed(0)).join(', ')} |`);
  }
  console.log(`| \`npx cdktf synth\`, default cluster (CLI included) | ${cli.toFixed(0)} | ${(cli / floor).toFixed(2)} | median of ${Math.min(RUNS, 3)} |`);
  console.log('');
  const bareCli = byCliName('bare CLI path');
  console.log('| CLIs | median ms | × bare CLI path | runs (ms) |');
  console.log('|---|---:|---:|---|');
  for (const r of cliRows) {
    console.log(`| ${r.name} | ${r.ms.toFixed(0)} | ${(r.ms / bareCli.ms).toFixed(2)} | ${r.runs.map((x) => x.toFixed(0)).join(', ')} |`);
  }
  console.log('');
  const goals: Goal[] = [
    { what: 'default cluster / bare cdktf app', ratio: byName('default cluster (6 VMs)').ms / floor, atMost: 1.5 },
    { what: "`npm run synth`'s script / bare CLI path", ratio: byCliName('`npm run synth`').ms / bareCli.ms, atMost: 1.3 },
    { what: '100 workers / default cluster', ratio: byName('100 workers').ms / byName('default cluster (6 VMs)').ms, atMost: 1.2 },
  ];
  console.log('| goal (ratio of medians) | measured | at most | met |');
  console.log('|---|---:|---:|---|');
  for (const g of goals) console.log(`| ${g.what} | ${g.ratio.toFixed(2)} | ${g.atMost.toFixed(1)} | ${g.ratio <= g.atMost ? 'yes' : 'NO'} |`);
  console.log('');
  // How low the two app ratios could go if everything of ours cost nothing: only cdktf's work on the same resources
  // and loading the libraries remain. For 100 workers, the default cluster's own time is kept as the denominator.
  const defaultMs = byName('default cluster (6 VMs)').ms;
  const bounds: Goal[] = [
    { what: 'default cluster / bare cdktf app, nothing of ours but yaml loaded', ratio: byName(RESOURCES_ONLY_YAML).ms / floor, atMost: 1.5 },
    { what: 'default cluster / bare cdktf app, nothing of ours but yaml and zod loaded', ratio: byName(RESOURCES_ONLY_LIBS).ms / floor, atMost: 1.5 },
    { what: '100 workers / default cluster, with no work of ours per VM', ratio: (defaultMs + byName(RESOURCES_ONLY_100).ms - byName(RESOURCES_ONLY_LIBS).ms) / defaultMs, atMost: 1.2 },
  ];
  console.log('| the lowest ratio cdktf leaves (our code taken as free) | bound | goal | reachable |');
  console.log('|---|---:|---:|---|');
  for (const b of bounds) console.log(`| ${b.what} | ${b.ratio.toFixed(2)} | ${b.atMost.toFixed(1)} | ${b.ratio <= b.atMost ? 'yes' : 'NO'} |`);
  console.log('');
  if (libvirtAvailable()) {
    const cycles = Math.min(RUNS, 3);
    const d = benchDeploy(cycles);
    console.log(`deploy tier's test cluster (3 VMs, domain type ${d.domainType}), median of ${cycles} deploy/destroy cycles:`);
    console.log('');
    console.log('| what | median s | runs (s) |');
    console.log('|---|---:|---|');
    console.log(`| \`cdktf deploy\` | ${median(d.deploy).toFixed(1)} | ${d.deploy.map((x) => x.toFixed(1)).join(', ')} |`);
    console.log(`| \`cdktf destroy\` | ${median(d.destroy).toFixed(1)} | ${d.destroy.map((x) => x.toFixed(1)).join(', ')} |`);
  } else {
    console.log('deploy/destroy: skipped (no libvirt daemon answering at qemu:///system, not root, or BENCH_DEPLOY=0); `bash scripts/libvirtd.sh` starts one');
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

/** Can this run bench the end-to-end cluster? The node image is built and dockerd is installed. */
function e2eAvailable(): boolean {
  if (process.env.BENCH_E2E === '0') return false;
  return fs.existsSync(path.join(ROOT, '.tools', 'node-image', 'rootfs.tar')) && spawnSync('bash', ['-c', 'command -v dockerd'], { encoding: 'utf8' }).status === 0;
}

/** Seconds from the spec to all nodes Ready, and to the workloads ready, for `runs` fresh clusters. */
async function benchE2e(runs: number): Promise<{ ready: number[]; workloads: number[] }> {
  const ready: number[] = [];
  const workloads: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = Date.now();
    const cluster = await E2eCluster.start(YAML.stringify(HA_SPEC), 'bench');
    try {
      await waitForAllNodesReady(cluster, 15 * 60_000);
      ready.push((Date.now() - t0) / 1000);
      await applyWorkloads(cluster, synthManifests(cluster, HA_SPEC));
      workloads.push((Date.now() - t0) / 1000);
      console.error(cluster.timeline.render(`run ${i + 1}`));
    } finally {
      await cluster.stop();
    }
  }
  return { ready, workloads };
}

if (e2eAvailable()) {
  const runs = Number(process.env.BENCH_E2E_RUNS ?? Math.min(RUNS, 3));
  if (!Number.isInteger(runs) || runs < 1 || runs > 10) {
    console.error(`BENCH_E2E_RUNS must be a whole number from 1 to 10, got ${JSON.stringify(process.env.BENCH_E2E_RUNS)}`);
    process.exit(2);
  }
  benchE2e(runs)
    .then((r) => {
      console.log('');
      console.log(`end-to-end, default HA topology (1 LB, 3 control planes, 2 workers) as container nodes of the node image, median of ${runs}:`);
      console.log('');
      console.log('| what | median s | runs (s) |');
      console.log('|---|---:|---|');
      console.log(`| spec → all nodes Ready | ${median(r.ready).toFixed(1)} | ${r.ready.map((x) => x.toFixed(1)).join(', ')} |`);
      console.log(`| spec → workloads ready | ${median(r.workloads).toFixed(1)} | ${r.workloads.map((x) => x.toFixed(1)).join(', ')} |`);
    })
    .catch((e: Error) => {
      console.error(`end-to-end bench failed: ${e.message}`);
      process.exitCode = 1;
    });
} else {
  console.log('end-to-end: skipped (no node image — npm run image — or no dockerd, or BENCH_E2E=0)');
}
