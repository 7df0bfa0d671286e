/**
 * `npm run status`: the spec's cluster as this host sees it, on one screen, and whether it is ready
 * (exit 0) or not (exit 1, with what is missing and what to do); 2 for bad input. `--wait SECONDS`
 * asks again until ready or the deadline. Decision logic: host/cluster-status.ts; probes:
 * host/status-probes.ts. Read-only.
 */
import * as fs from 'fs';
import * as path from 'path';
import { kubeconfigPathOf, secretsDirOf } from '../bootstrap';
import { Observations, STATUS_USAGE, clusterReport, formatReport, parseStatusArgs } from '../host/cluster-status';
import { findKubectl, probeApi, probeLibvirt } from '../host/status-probes';
import { loadClusterSpecOrExit, planCluster } from '../spec';

const ROOT = path.resolve(__dirname, '..');

function main(): void {
  let options;
  try {
    options = parseStatusArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`status: ${(e as Error).message}\n${STATUS_USAGE}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`${STATUS_USAGE}\n`);
    return;
  }
  // A kubeconfig named on the command line must be a file: otherwise it is bad input (2), not a cluster that is not ready.
  if (options.kubeconfig !== undefined) {
    const given = options.kubeconfig;
    const problem = !fs.existsSync(given) ? 'which does not exist' : fs.statSync(given).isDirectory() ? 'which is a folder' : undefined;
    if (problem !== undefined) {
      process.stderr.write(`status: --kubeconfig must name a kubeconfig file, got ${JSON.stringify(given)}, ${problem}\n${STATUS_USAGE}\n`);
      process.exit(2);
    }
  }
  const loaded = loadClusterSpecOrExit(2);
  const plan = planCluster(loaded.spec);
  const kubeconfig = path.resolve(options.kubeconfig ?? kubeconfigPathOf(plan.spec.name, secretsDirOf()));
  const kubectl = findKubectl(ROOT);
  const observe = (): Observations => ({
    libvirt: options.noLibvirt ? { kind: 'skipped' } : probeLibvirt(plan),
    api: probeApi(plan, kubeconfig, kubectl),
  });

  const deadline = options.waitSeconds === undefined ? undefined : Date.now() + options.waitSeconds * 1000;
  for (let round = 1; ; round++) {
    const report = clusterReport(plan, observe());
    const now = Date.now();
    if (report.ready || deadline === undefined || now >= deadline) {
      process.stdout.write(formatReport(plan, loaded.source, report, kubeconfig));
      if (!report.ready && deadline !== undefined) process.stdout.write(`not ready after --wait ${options.waitSeconds} s (${round} rounds)\n`);
      process.exit(report.ready ? 0 : 1);
    }
    // The last pause ends at the deadline, so a --wait shorter than --interval still asks twice.
    const pauseMs = Math.min(options.intervalSeconds * 1000, deadline - now);
    process.stdout.write(`[status] round ${round}: not ready (${report.problems.length} problem(s); first: ${report.problems[0]}); asking again in ${Math.ceil(pauseMs / 1000)} s\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pauseMs);
  }
}

main();
