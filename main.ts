/**
 * The cdktf app: one stack for the cluster described by the spec (CLUSTER_CONFIG, else
 * cluster.yaml, else the embedded default). `cdktf synth` / `cdktf deploy` run this.
 */
import { App } from 'cdktf';
import { loadOrCreateSecrets, secretsDirOf } from './bootstrap';
import { ClusterStack } from './constructs';
import { requireSeedTool } from './constructs/private/seed-images';
import { loadClusterSpecOrExit, planCluster } from './spec';

// An invalid spec ends here with every problem, before anything is written: cdktf.out/ stays as it was.
const { spec } = loadClusterSpecOrExit();
// Synth writes every node's NoCloud seed image with xorriso: without it, stop here, before anything is written.
try {
  requireSeedTool();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
// Generated on the first synth, reused afterwards (mode 0600, outside git); external etcd adds its certificates.
const secrets = loadOrCreateSecrets(spec.name, secretsDirOf(), undefined, { members: planCluster(spec).etcdNodes });
const app = new App();
new ClusterStack(app, { spec, secrets });
app.synth();
