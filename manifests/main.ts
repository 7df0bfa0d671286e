/**
 * The cdk8s app (cdk8s.yaml runs it): the workload charts, from the same cluster spec as the VMs
 * (CLUSTER_CONFIG, else ./cluster.yaml, else the default). Writes dist/<chart>.k8s.yaml.
 */
import { App } from 'cdk8s';
import { loadClusterSpec, planCluster } from '../spec';
import { addWorkloadCharts } from './workload-charts';

const { spec } = loadClusterSpec();
const app = new App();
addWorkloadCharts(app, { plan: planCluster(spec) });
app.synth();
