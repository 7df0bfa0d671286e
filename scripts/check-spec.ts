/**
 * Validates the cluster spec the way synth will load it (CLUSTER_CONFIG, else cluster.yaml,
 * else the default) and exits non-zero with every problem before anything is written.
 * Usage: node --require ./scripts/register-ts.js scripts/check-spec.ts, or preloaded into another node
 * program's process (`node --require ./scripts/register-ts.js --require ./scripts/check-spec.ts PROGRAM`,
 * as scripts/synth.sh does with the cdktf CLI) so the check costs no process of its own.
 */
import { isMainThread } from 'worker_threads';
import { loadClusterSpecOrExit } from '../spec';

// Preloaded, it also runs in the program's worker threads (the TypeScript hook starts one on a cold cache):
// the program's own thread checks and speaks, once.
if (isMainThread) {
  const { source, warnings } = loadClusterSpecOrExit();
  console.error(`cluster spec: ${source}: valid`);
  for (const w of warnings) console.error(`  warning: ${w}`);
}
