/**
 * Validates the cluster spec the way synth will load it (CLUSTER_CONFIG, else cluster.yaml,
 * else the default) and exits non-zero with every problem before anything is written.
 * Usage: node --require ts-node/register/transpile-only scripts/check-spec.ts
 */
import { loadClusterSpecOrExit } from '../spec';

const { source, warnings } = loadClusterSpecOrExit();
console.error(`cluster spec: ${source}: valid`);
for (const w of warnings) console.error(`  warning: ${w}`);
