/**
 * The cdktf app: one stack for the cluster described by the spec (CLUSTER_CONFIG, else
 * cluster.yaml, else the embedded default). `cdktf synth` / `cdktf deploy` run this.
 */
import { App } from 'cdktf';
import { loadOrCreateSecrets } from './bootstrap';
import { ClusterStack } from './constructs';
import { ClusterSpecError, loadClusterSpec, planCluster } from './spec';

/** Where the per-cluster secrets live. @default .secrets (git-ignored) */
const SECRETS_DIR_ENV = 'K8S_LAB_SECRETS_DIR';

function main(): void {
  let loaded;
  try {
    loaded = loadClusterSpec();
  } catch (e) {
    if (!(e instanceof ClusterSpecError)) throw e;
    // Nothing has been written yet: fail with every problem, leaving cdktf.out/ as it was.
    console.error(e.message);
    process.exit(1);
  }
  const { spec } = loaded;
  // Generated on the first synth, reused afterwards (mode 0600, outside git); external etcd adds its certificates.
  const secrets = loadOrCreateSecrets(spec.name, process.env[SECRETS_DIR_ENV] || undefined, undefined, { members: planCluster(spec).etcdNodes });
  const app = new App();
  new ClusterStack(app, { spec, secrets });
  app.synth();
}

main();
