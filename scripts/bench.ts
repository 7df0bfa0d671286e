/**
 * `npm run bench`: measures, in one run on this machine, how long synthesis takes.
 *   - the default cluster vs a bare cdktf app with one output (the framework's floor), as a ratio;
 *   - clusters with 2, 50 and 100 workers;
 *   - `npx cdktf synth` end to end (the CLI's own start-up included), once per run.
 * Each figure is the median of RUNS runs (env BENCH_RUNS, default 5) of a fresh process, the way
 * cdktf runs the app. A benchmark, not a test: it prints a table and asserts nothing.
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

/** Median wall time of RUNS runs of a cdktf app file with the given spec document. */
function benchApp(name: string, appFile: string, spec: object | undefined): { name: string; ms: number; runs: number[] } {
  const specFile = path.join(work, `${name.replace(/\W+/g, '-')}.yaml`);
  fs.writeFileSync(specFile, YAML.stringify(spec ?? {}));
  const env = { CDKTF_OUTDIR: path.join(work, 'out'), K8S_LAB_SECRETS_DIR: secretsDir, CLUSTER_CONFIG: specFile };
  timeProcess('node', ['--require', 'ts-node/register/transpile-only', appFile], env); // warm-up: secrets, disk cache
  const runs = Array.from({ length: RUNS }, () => timeProcess('node', ['--require', 'ts-node/register/transpile-only', appFile], env));
  return { name, ms: median(runs), runs };
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

try {
  const rows = [
    benchApp('bare cdktf app (1 output)', 'scripts/bench/bare-app.ts', undefined),
    benchApp('default cluster (6 VMs)', 'main.ts', {}),
    benchApp('2 workers', 'main.ts', workers(2)),
    benchApp('50 workers', 'main.ts', workers(50)),
    benchApp('100 workers', 'main.ts', workers(100)),
  ];
  const cliSpec = path.join(work, 'cli.yaml');
  fs.writeFileSync(cliSpec, '{}\n');
  const cli = median(
    Array.from({ length: Math.min(RUNS, 3) }, () =>
      timeProcess('npx', ['cdktf', 'synth', '--output', path.join(work, 'cli-out')], { CLUSTER_CONFIG: cliSpec, K8S_LAB_SECRETS_DIR: secretsDir, CHECKPOINT_DISABLE: '1', CI: '1' }),
    ),
  );

  const floor = rows[0].ms;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`k8s-lab synth benchmark — ${new Date().toISOString()}`);
  console.log(`machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; median of ${RUNS} runs`);
  console.log('');
  console.log('| what | median ms | × bare app | runs (ms) |');
  console.log('|---|---:|---:|---|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.ms.toFixed(0)} | ${(r.ms / floor).toFixed(2)} | ${r.runs.map((x) => x.toFixed(0)).join(', ')} |`);
  }
  console.log(`| \`npx cdktf synth\`, default cluster (CLI included) | ${cli.toFixed(0)} | ${(cli / floor).toFixed(2)} | median of ${Math.min(RUNS, 3)} |`);
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
    console.log('deploy/destroy: skipped (no libvirt daemon answering at qemu:///system, not root, or BENCH_DEPLOY=0); `npm run test:deploy` starts one');
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
