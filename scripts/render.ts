/**
 * `npm run render`: writes every node's cloud-init files to rendered/<hostname>/ so a person can
 * read exactly what the VMs get: user-data, meta-data, and haproxy.cfg (load balancers) or
 * kubeadm.yaml (control planes and workers). Uses the same spec (CLUSTER_CONFIG / cluster.yaml /
 * default) and the same secrets (.secrets/<cluster>/secrets.json) as `cdktf synth`.
 *
 * Validates first and writes nothing on an invalid spec; writes into a temporary directory beside
 * `rendered/` and swaps it in with renames, so no half-written tree is ever left.
 * rendered/ is git-ignored: kubeadm.yaml and user-data hold the cluster's secrets.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadOrCreateSecrets, renderNodeFiles, secretsDirOf } from '../bootstrap';
import { ClusterSpecError, loadClusterSpec, planCluster } from '../spec';

/** Writes the rendered tree of the spec found from `env`/`rootDir` into `<rootDir>/<outDir>`; returns the files written. */
export function renderCluster(env: NodeJS.ProcessEnv, rootDir: string, outDir = 'rendered', secretsDir = path.join(rootDir, '.secrets')): string[] {
  const loaded = loadClusterSpec(env, rootDir);
  for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
  const plan = planCluster(loaded.spec);
  const secrets = loadOrCreateSecrets(plan.spec.name, secretsDir, undefined, { members: plan.etcdNodes });
  // Render everything in memory first: a renderer that throws leaves the disk untouched.
  const rendered = plan.nodes.map((node) => ({ node, files: renderNodeFiles(plan, node, secrets) }));

  const target = path.resolve(rootDir, outDir);
  const tmp = fs.mkdtempSync(`${target}.tmp-`);
  const written: string[] = [];
  try {
    for (const { node, files } of rendered) {
      const dir = path.join(tmp, node.hostname);
      fs.mkdirSync(dir, { mode: 0o700 });
      for (const [name, content] of Object.entries(files)) {
        fs.writeFileSync(path.join(dir, name), content, { mode: 0o600 });
        written.push(path.join(outDir, node.hostname, name));
      }
    }
    const old = fs.existsSync(target) ? `${tmp}.old` : undefined;
    if (old) fs.renameSync(target, old);
    fs.renameSync(tmp, target);
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return written;
}

function main(): void {
  try {
    const written = renderCluster(process.env, process.cwd(), undefined, secretsDirOf());
    process.stdout.write(`rendered ${written.length} files:\n${written.map((f) => `  ${f}`).join('\n')}\n`);
  } catch (e) {
    if (e instanceof ClusterSpecError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`render failed: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

if (require.main === module) main();
