/**
 * `npm run policy`: renders the current cluster spec (CLUSTER_CONFIG / cluster.yaml / default)
 * exactly as `npm run render` does, in memory, and runs every policy rule (policy/) over it.
 * Prints the findings, one per line; exit 0 when there are none, 1 when there are, 2 for an invalid
 * spec. Uses the cluster's secrets from .secrets/<cluster>/secrets.json (or K8S_LAB_SECRETS_DIR)
 * when they exist; otherwise a throwaway set made in memory. External etcd material missing from the
 * file is made in memory too: a check never writes secrets.
 *
 * Then the rule secret-outputs-private over what synth and deploy left on this host for the cluster
 * (cdktf.out/ or CDKTF_OUTDIR, its secrets folder, its kubeconfig, Terraform's state), where present.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ClusterSecrets, SECRETS_FILE, ensureEtcdSecrets, generateClusterSecrets, kubeconfigPathOf, loadOrCreateSecrets, secretsDirOf } from '../bootstrap';
import { exitWithReason } from '../host/exit-with-reason';
import { stateFilesOf } from '../host/private-outputs';
import { POLICY_RULES, checkPolicy, formatFindings, policyInputOf, secretOutputFindings, secretOutputModes } from '../policy';
import { loadClusterSpecOrExit, planCluster } from '../spec';

function main(): void {
  const loaded = loadClusterSpecOrExit(2);
  const plan = planCluster(loaded.spec);
  const secretsDir = secretsDirOf();
  const haveSecrets = fs.existsSync(path.join(secretsDir, plan.spec.name, SECRETS_FILE));
  // Without etcd members loadOrCreateSecrets only reads an existing file.
  let secrets: ClusterSecrets;
  try {
    const base: ClusterSecrets = haveSecrets ? loadOrCreateSecrets(plan.spec.name, secretsDir) : generateClusterSecrets();
    secrets = plan.etcdNodes.length > 0 ? { ...base, etcd: ensureEtcdSecrets(base.etcd, plan.etcdNodes).secrets } : base;
  } catch (e) {
    exitWithReason(e, 'policy');
  }

  let findings;
  try {
    findings = checkPolicy(policyInputOf(plan, secrets));
  } catch (e) {
    exitWithReason(new Error(`rendering cluster ${plan.spec.name}: ${(e as Error).message}`), 'policy');
  }
  const outputs = secretOutputModes({
    outDir: path.resolve(process.env.CDKTF_OUTDIR || 'cdktf.out'),
    secretsClusterDir: path.join(secretsDir, plan.spec.name),
    kubeconfig: kubeconfigPathOf(plan.spec.name, secretsDir),
    stateFiles: stateFilesOf(plan.spec.name),
  });
  const outputFindings = secretOutputFindings(outputs);
  const lines = [...(findings.length > 0 ? [formatFindings(findings)] : []), ...outputFindings.map((f) => `[${f.rule}] ${f.message}`)];
  const what = `cluster ${plan.spec.name} (${loaded.source}, ${plan.nodes.length} nodes, ${haveSecrets ? 'its secrets' : 'throwaway secrets'}; ${outputs.length} output paths on this host)`;
  if (lines.length === 0) {
    process.stdout.write(`policy: ${POLICY_RULES.length + 1} rules, no findings for ${what}\n`);
    return;
  }
  process.stdout.write(`${lines.join('\n')}\npolicy: ${findings.length + outputFindings.length} finding(s) for ${what}\n`);
  process.exit(1);
}

main();
