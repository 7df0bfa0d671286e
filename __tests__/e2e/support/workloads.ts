import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { REGISTER_TS, ROOT } from '../../support/tools';
import { E2eCluster } from './e2e-cluster';

/** The workload image baked into the node image (its manifest names it). */
export function agnhostImage(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, '.tools', 'node-image', 'image-manifest.json'), 'utf8')) as { images: { name: string }[] };
  const found = manifest.images.find((i) => i.name.includes('/agnhost:'));
  if (!found) throw new Error('the node image manifest lists no agnhost image');
  return found.name;
}

const synthesized = new Map<E2eCluster, string>();

/** The cdk8s app run on the spec under test (CLUSTER_CONFIG), into the cluster's work folder: its dist/. */
export function synthManifests(cluster: E2eCluster, spec: object): string {
  const done = synthesized.get(cluster);
  if (done) return done;
  const dir = cluster.file('dist');
  const specFile = cluster.file('cluster.yaml');
  fs.writeFileSync(specFile, YAML.stringify(spec), { mode: 0o600 });
  const r = spawnSync('node', ['--require', REGISTER_TS, 'manifests/main.ts'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CLUSTER_CONFIG: specFile, CDK8S_OUTDIR: dir } });
  if (r.status !== 0) throw new Error(`cdk8s app failed (${r.status}):\n${r.stdout}${r.stderr}`);
  synthesized.set(cluster, dir);
  return dir;
}

/** kubectl apply of every dist/*.k8s.yaml through the load balancer, then waits for deployment/web; marks the timeline. */
export async function applyWorkloads(cluster: E2eCluster, dist: string): Promise<void> {
  for (const file of fs.readdirSync(dist).filter((f) => f.endsWith('.k8s.yaml')).sort()) {
    await cluster.mustKubectl(['apply', '-f', '-'], { input: fs.readFileSync(path.join(dist, file), 'utf8') });
  }
  await cluster.mustKubectl(['rollout', 'status', 'deployment/web', '--timeout=300s'], { timeoutMs: 6 * 60_000 });
  cluster.timeline.mark('workloads ready (deployment/web rolled out)');
}

/**
 * The kubeconfig a user gets from synth (README "Reaching the cluster"): issued on the host with the
 * cluster CA, its server the load balancer's address. kubectl on the host side of the lab's
 * network uses it as a user would.
 */
export function hostKubeconfig(cluster: E2eCluster): string {
  return cluster.kubeconfig;
}
