import * as fs from 'fs';
import * as path from 'path';
import { kubeconfigPathOf } from '../../../bootstrap';
import { secretOutputFindings, secretOutputModes } from '../../../policy';

/** Where one deployed test cluster keeps what holds its secrets on this host. */
export interface DeployedOutputs {
  readonly cluster: string;
  readonly outDir: string;
  readonly secretsDir: string;
  readonly stateFiles: readonly string[];
  /** The cluster's storage pool directory: its NoCloud seeds hold the bootstrap token and CA key. */
  readonly poolPath: string;
  /** The planned nodes' hostnames: each has a seed (`<hostname>-seed-<hash>.iso`) and a root disk (`<hostname>.qcow2`). */
  readonly hostnames: readonly string[];
}

/** What kind of node volume a pool file is (seed or root disk), if it is one of `hostnames`'. */
function nodeVolumeKind(fileName: string, hostnames: readonly string[]): 'seed' | 'disk' | undefined {
  for (const h of hostnames) {
    if (fileName === `${h}.qcow2`) return 'disk';
    if (fileName.startsWith(`${h}-seed-`) && fileName.endsWith('.iso')) return 'seed';
  }
  return undefined;
}

/**
 * Every secret-bearing output of a deployed cluster that others could read, one line each (none =
 * private): the rule secret-outputs-private over the synth output, the secrets folder, the admin
 * kubeconfig and Terraform's state (written by the deploy itself, so this checks the Terraform run
 * too), plus each node's seed and root disk in the pool, which libvirt creates and which must grant
 * nothing to others. Also fails when the state is missing or still empty after a deploy, or when a
 * node's seed or disk is not in the pool (nothing to check would pass).
 */
export function privateModeProblems(outputs: DeployedOutputs): string[] {
  const kubeconfig = kubeconfigPathOf(outputs.cluster, outputs.secretsDir, {});
  const entries = secretOutputModes({ outDir: outputs.outDir, secretsClusterDir: path.join(outputs.secretsDir, outputs.cluster), kubeconfig, stateFiles: outputs.stateFiles });
  const problems = secretOutputFindings(entries).map((f) => f.message);
  // Present on disk (the listing of modes stops at folders others cannot enter, such as the 0700 stack folder).
  for (const must of [path.join(outputs.outDir, 'stacks', outputs.cluster, 'cdk.tf.json'), kubeconfig, outputs.stateFiles[0]]) {
    if (!fs.existsSync(must)) problems.push(`${must} is missing`);
  }
  if (fs.existsSync(outputs.stateFiles[0]) && fs.statSync(outputs.stateFiles[0]).size === 0) problems.push(`${outputs.stateFiles[0]} is empty after a deploy`);
  const files = fs.existsSync(outputs.poolPath) ? fs.readdirSync(outputs.poolPath) : [];
  for (const h of outputs.hostnames) {
    for (const kind of ['seed', 'disk'] as const) {
      if (!files.some((f) => nodeVolumeKind(f, [h]) === kind)) problems.push(`no ${kind} of ${h} in ${outputs.poolPath}`);
    }
  }
  for (const f of files) {
    const kind = nodeVolumeKind(f, outputs.hostnames);
    if (kind === undefined) continue;
    const mode = fs.statSync(path.join(outputs.poolPath, f)).mode & 0o777;
    if ((mode & 0o077) !== 0) problems.push(`${kind} ${path.join(outputs.poolPath, f)} has mode ${mode.toString(8).padStart(4, '0')}: others than its owner can read it`);
  }
  return problems;
}
