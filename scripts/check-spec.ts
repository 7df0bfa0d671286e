/**
 * Validates the cluster spec the way synth will load it (CLUSTER_CONFIG, else cluster.yaml,
 * else the default) and exits non-zero with every problem before anything is written.
 * Usage: node --require ts-node/register/transpile-only scripts/check-spec.ts
 */
import { ClusterSpecError, loadClusterSpec } from '../spec';

try {
  const { source, warnings } = loadClusterSpec();
  console.error(`cluster spec: ${source}: valid`);
  for (const w of warnings) console.error(`  warning: ${w}`);
} catch (e) {
  if (!(e instanceof ClusterSpecError)) throw e;
  console.error(e.message);
  process.exit(1);
}
