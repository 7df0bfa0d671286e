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
  /** The cluster's storage pool directory: its cloud-init seeds hold the bootstrap token and CA key. */
  readonly poolPath: string;
  /** Which pool files are seeds. @default - names ending in .iso (provider v0.8.3's libvirt_cloudinit_disk) */
  readonly isSeed?: (fileName: string) => boolean;
}

/**
 * Every secret-bearing output of a deployed cluster that others could read, one line each (none =
 * private): the rule secret-outputs-private over the synth output, the secrets folder, the admin
 * kubeconfig and Terraform's state (written by the deploy itself, so this checks the Terraform run
 * too), plus the pool's seed files, which libvirt creates and which must grant nothing to others.
 * Also fails when the state is missing or still empty after a deploy (nothing to check would pass).
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
  const isSeed = outputs.isSeed ?? ((f: string) => f.endsWith('.iso'));
  const seeds = fs.existsSync(outputs.poolPath) ? fs.readdirSync(outputs.poolPath).filter(isSeed) : [];
  if (seeds.length === 0) problems.push(`no seed file in ${outputs.poolPath}`);
  for (const f of seeds) {
    const mode = fs.statSync(path.join(outputs.poolPath, f)).mode & 0o777;
    if ((mode & 0o007) !== 0) problems.push(`seed ${path.join(outputs.poolPath, f)} has mode ${mode.toString(8).padStart(4, '0')}: other users can read it`);
  }
  return problems;
}
