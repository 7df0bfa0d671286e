/**
 * Validates the cluster spec the way synth will load it (CLUSTER_CONFIG, else cluster.yaml,
 * else the default) and exits non-zero with every problem before anything is written.
 * Usage: node --require ./scripts/register-ts.js scripts/check-spec.ts, or preloaded into another node
 * program's process (`node --require ./scripts/register-ts.js --require ./scripts/check-spec.ts PROGRAM`,
 * as scripts/synth.sh does with the cdktf CLI) so the check costs no process of its own.
 */
import { loadClusterSpecOrExit } from '../spec';

const { source, warnings } = loadClusterSpecOrExit();
console.error(`cluster spec: ${source}: valid`);
for (const w of warnings) console.error(`  warning: ${w}`);
