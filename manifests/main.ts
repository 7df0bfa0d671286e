/**
 * The cdk8s app (cdk8s.yaml runs it): the workload charts, from the same cluster spec as the VMs
 * (CLUSTER_CONFIG, else ./cluster.yaml, else the default). Writes dist/<chart>.k8s.yaml.
 */
import { App } from 'cdk8s';
import { ClusterSpecError, loadClusterSpec, planCluster } from '../spec';
import { addWorkloadCharts } from './workload-charts';

function main(): void {
  let loaded;
  try {
    loaded = loadClusterSpec();
  } catch (e) {
    if (!(e instanceof ClusterSpecError)) throw e;
    // Nothing written yet: every problem, and dist/ left as it was.
    console.error(e.message);
    process.exit(1);
  }
  const app = new App();
  addWorkloadCharts(app, { plan: planCluster(loaded.spec) });
  app.synth();
}

main();
