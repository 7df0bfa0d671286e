/**
 * The cdktf app: one stack for the cluster described by the spec (CLUSTER_CONFIG, else
 * cluster.yaml, else the embedded default). `cdktf synth` / `cdktf deploy` run this.
 */
// Before anything is written: whatever this process creates (cdktf.out/, the secrets, the
// kubeconfig, the state files) is 0600 in 0700 folders, however cdktf was started.
process.umask(0o077);

import * as path from 'path';
import { App } from 'cdktf';
import { kubeconfigPathOf, kubeconfigPathProblem, loadOrCreateSecrets, loadOrIssueAdminClient, renderAdminKubeconfig, secretsDirOf, writeKubeconfigFile } from './bootstrap';
import { ClusterStack } from './constructs';
import { requireSeedTool } from './constructs/private/seed-images';
import { exitWithReason } from './host/exit-with-reason';
import { prepareStateFiles, restrictCdktfOutput, restrictTree, stateFilesOf } from './host/private-outputs';
import { loadClusterSpecOrExit, planCluster } from './spec';

// An invalid spec ends here with every problem, before anything is written: cdktf.out/ stays as it was.
const { spec } = loadClusterSpecOrExit();
try {
  // Synth writes every node's NoCloud seed image with xorriso: without it, stop here, before anything is written.
  requireSeedTool();
  const plan = planCluster(spec);
  const secretsDir = secretsDirOf();
  // Where the kubeconfig goes (K8S_LAB_KUBECONFIG may move it): a path it cannot take stops synth here too.
  const kubeconfigFile = kubeconfigPathOf(spec.name, secretsDir);
  const kubeconfigProblem = kubeconfigPathProblem(kubeconfigFile);
  if (kubeconfigProblem !== undefined) throw new Error(kubeconfigProblem);
  // Generated on the first synth, reused afterwards (mode 0600, outside git); external etcd adds its certificates.
  const secrets = loadOrCreateSecrets(spec.name, secretsDir, undefined, { members: plan.etcdNodes });
  // A copy or a restore may have left them readable by others: synth, which uses them, makes them private again.
  restrictTree(path.join(secretsDir, spec.name));
  // The admin kubeconfig, issued on the host with the cluster CA (no SSH needed, README "Reaching the cluster"):
  // made before the stack is written, so an issuing failure leaves the outputs as they were; written last.
  const kubeconfig = renderAdminKubeconfig(plan, secrets.caCertPem, loadOrIssueAdminClient(spec.name, secretsDir, secrets));
  const app = new App();
  new ClusterStack(app, { spec, secrets });
  app.synth();
  // Files of an earlier synth keep their mode when overwritten: bring them to 0600/0700 too.
  restrictCdktfOutput(app.outdir);
  // Terraform keeps the mode of an existing state file: make it 0600 before any Terraform run.
  prepareStateFiles(stateFilesOf(spec.name));
  writeKubeconfigFile(kubeconfigFile, kubeconfig);
} catch (e) {
  exitWithReason(e);
}
