/**
 * The cdk8s app (cdk8s.yaml runs it): the workload charts, from the same cluster spec as the VMs
 * (CLUSTER_CONFIG, else ./cluster.yaml, else the default). Writes dist/<chart>.k8s.yaml.
 */
import { App } from 'cdk8s';
import { loadClusterSpecOrExit, planCluster } from '../spec';
import { addWorkloadCharts } from './workload-charts';

// An invalid spec ends here with every problem, before anything is written: dist/ stays as it was.
const { spec } = loadClusterSpecOrExit();
const app = new App();
addWorkloadCharts(app, { plan: planCluster(spec) });
app.synth();
