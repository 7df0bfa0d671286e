import { bashScript, shellQuote } from './private/shell';
import { stepScriptPath, VM_PATHS } from './private/vm-paths';

/** The prefix of every bootstrap line in /var/log/cloud-init-output.log: `[k8s-lab <step>] …`. */
export const LOG_PREFIX = 'k8s-lab';

/**
 * The runner cloud-init's `runcmd` calls: runs the node's steps in order, prefixes every line of
 * their output with `[k8s-lab <step>]`, stops at the first failing step with a non-zero exit (so
 * `cloud-init status` reports an error) and marks success in VM_PATHS.doneMarker. Re-running it
 * (`sudo k8s-lab-bootstrap`) is safe: every step is idempotent.
 */
export function bootstrapRunner(steps: readonly string[]): string {
  for (const step of steps) {
    if (!/^[a-z]+(-[a-z]+)*$/.test(step)) throw new Error(`bootstrap step names must be lowercase words joined by "-", got ${JSON.stringify(step)}`);
  }
  return bashScript({
    description: ['Runs the k8s-lab bootstrap steps of this node, in order. Written by k8s-lab cloud-init; safe to re-run.'],
    body: [
      `steps=(${steps.map(shellQuote).join(' ')})`,
      `install -d -m 0755 ${VM_PATHS.doneMarker.replace(/\/[^/]+$/, '')}`,
      'for step in "${steps[@]}"; do',
      `  echo "[${LOG_PREFIX}] step \${step}: start"`,
      `  if ! "${VM_PATHS.scriptDir}/k8s-lab-\${step}.sh" 2>&1 | sed -u "s/^/[${LOG_PREFIX} \${step}] /"; then`,
      `    echo "[${LOG_PREFIX}] step \${step}: FAILED (see the lines above); fix, then re-run: sudo ${VM_PATHS.runner}" >&2`,
      '    exit 1',
      '  fi',
      `  echo "[${LOG_PREFIX}] step \${step}: done"`,
      'done',
      `touch ${VM_PATHS.doneMarker}`,
      `echo "[${LOG_PREFIX}] bootstrap complete"`,
    ],
  });
}

export { stepScriptPath };
