import { ClusterPlan, NodePlan } from '../spec';
import { kubeadmCommand } from './kubeadm-config';
import { BootstrapStep } from './private/bootstrap-step';
import { bashScript, shellConst, shellQuote } from './private/shell';
import { VM_PATHS } from './private/vm-paths';
import { waitBoundSeconds } from './private/wait-scale';

/** The step's name: `/usr/local/sbin/k8s-lab-join-node.sh`. */
export const JOIN_NODE_STEP = 'join-node';

/** How long a joining node waits for the API through the load balancer before it gives up (under KVM; see waitBoundSeconds). */
export const API_WAIT_TIMEOUT_SECONDS = 20 * 60;
/** Seconds between two probes of the API. */
export const API_WAIT_INTERVAL_SECONDS = 10;
/** `kubeadm join` attempts before the step gives up (`kubeadm reset -f` between two). */
export const JOIN_ATTEMPTS = 10;
/** Seconds between two `kubeadm join` attempts. */
export const JOIN_RETRY_SECONDS = 30;

/**
 * A joining control plane or worker: waits (bounded) until the API answers through the load
 * balancer, then `kubeadm join --config` with bounded retries. The config (rendered by
 * kubeadm-config.ts) pins the CA by hash and carries the node's labels and taints. Idempotent:
 * a joined node (kubelet.conf present) skips the join.
 */
export function joinNodeStep(plan: ClusterPlan, node: NodePlan): BootstrapStep {
  const api = plan.apiEndpoint;
  const readyz = `https://${api.fqdn}:${api.port}/readyz`;
  const body = [
    shellConst('readyz', readyz),
    shellConst('wait_timeout', waitBoundSeconds(plan, API_WAIT_TIMEOUT_SECONDS)),
    shellConst('wait_interval', API_WAIT_INTERVAL_SECONDS),
    shellConst('attempts', JOIN_ATTEMPTS),
    shellConst('retry_after', JOIN_RETRY_SECONDS),
    '',
    `if [[ -f ${VM_PATHS.kubeletKubeconfig} ]]; then`,
    `  echo "kubeadm join: already done (${VM_PATHS.kubeletKubeconfig} exists)"`,
    '  exit 0',
    'fi',
    '',
    '# Only a readiness probe of the load balancer: the join itself pins the cluster CA by hash.',
    'echo "waiting up to ${wait_timeout} s for the API server at ${readyz}"',
    'deadline=$((SECONDS + wait_timeout))',
    'until curl -fsk --max-time 5 -o /dev/null "${readyz}"; do',
    '  if ((SECONDS >= deadline)); then',
    '    echo "timed out after ${wait_timeout} s: ${readyz} never answered; is the first control plane up and the load balancer running?" >&2',
    '    exit 1',
    '  fi',
    '  sleep "${wait_interval}"',
    'done',
    'echo "API server answers; joining"',
    '',
    'attempt=1',
    'while :; do',
    '  echo "kubeadm join: attempt ${attempt} of ${attempts}"',
    `  if ${kubeadmCommand(node).map(shellQuote).join(' ')}; then`,
    '    break',
    '  fi',
    '  if ((attempt >= attempts)); then',
    '    echo "kubeadm join failed ${attempts} times; giving up (a control plane joining over 2 h after init needs new uploaded certs: see the README)" >&2',
    '    exit 1',
    '  fi',
    '  echo "kubeadm join failed; kubeadm reset -f, then again in ${retry_after} s"',
    '  kubeadm reset -f || echo "kubeadm reset -f failed; trying join anyway" >&2',
    '  attempt=$((attempt + 1))',
    '  sleep "${retry_after}"',
    'done',
  ];
  return {
    name: JOIN_NODE_STEP,
    files: [],
    script: bashScript({
      description: [
        `Joins this node to cluster ${plan.spec.name} through ${api.fqdn}:${api.port} (kubeadm join).`,
        'Written by k8s-lab cloud-init; idempotent: a joined node is left alone.',
      ],
      body,
    }),
  };
}
