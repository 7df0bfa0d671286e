import { ClusterPlan } from '../../spec';
import { GoDuration, KubeadmTimeouts } from './kubeadm-types';
import { waitBoundSeconds } from './wait-scale';

/** A timeout of kubeadm's v1beta4 `timeouts` that init or join uses. */
export type KubeadmTimeoutName = 'controlPlaneComponentHealthCheck' | 'kubeletHealthCheck' | 'kubernetesAPICall' | 'etcdAPICall' | 'tlsBootstrap' | 'discovery';

/** kubeadm 1.36's own defaults (cmd/kubeadm/app/constants), in seconds. */
export const KUBEADM_DEFAULT_TIMEOUT_SECONDS: Readonly<Record<KubeadmTimeoutName, number>> = {
  controlPlaneComponentHealthCheck: 240,
  kubeletHealthCheck: 240,
  kubernetesAPICall: 60,
  etcdAPICall: 120,
  tlsBootstrap: 300,
  discovery: 300,
};

/**
 * Where the lab waits longer than kubeadm under KVM, in seconds: the cluster boots all at once, so joins
 * start while the first control plane is still initialising and the load balancer has no healthy backend
 * (discovery retries for 15 min), and the control-plane pods of nodes booting together get 10 min.
 */
export const KVM_TIMEOUT_SECONDS: Readonly<Partial<Record<KubeadmTimeoutName, number>>> = {
  controlPlaneComponentHealthCheck: 600,
  discovery: 900,
};

/** The kubeadm commands a node runs, by the timeouts each one uses. */
export enum KubeadmCommand {
  INIT = 'init',
  JOIN_CONTROL_PLANE = 'join-control-plane',
  JOIN_WORKER = 'join-worker',
}

const USED: Readonly<Record<KubeadmCommand, readonly KubeadmTimeoutName[]>> = {
  [KubeadmCommand.INIT]: ['controlPlaneComponentHealthCheck', 'kubeletHealthCheck', 'kubernetesAPICall', 'etcdAPICall'],
  [KubeadmCommand.JOIN_CONTROL_PLANE]: ['controlPlaneComponentHealthCheck', 'kubeletHealthCheck', 'kubernetesAPICall', 'etcdAPICall', 'tlsBootstrap', 'discovery'],
  [KubeadmCommand.JOIN_WORKER]: ['kubeletHealthCheck', 'kubernetesAPICall', 'tlsBootstrap', 'discovery'],
};

/** `seconds` as Go's time.Duration prints it (`10m0s`, `1h40m0s`, `45s`). */
export function goDuration(seconds: number): GoDuration {
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`goDuration: seconds must be a whole number >= 0, got ${seconds}`);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/**
 * The `timeouts` of a node's kubeadm command. Under KVM: the lab's longer bounds where it has one, kubeadm's
 * defaults (left unset) elsewhere. Under emulation (libvirt.domainType qemu, about 10× slower) every timeout
 * the command uses is set, at 10× its KVM value: kubeadm gives up on a control plane that is only slow, and
 * a failed init costs a `kubeadm reset` and another try, just as slow.
 */
export function kubeadmTimeouts(plan: ClusterPlan, command: KubeadmCommand): KubeadmTimeouts {
  const timeouts: Partial<Record<KubeadmTimeoutName, GoDuration>> = {};
  for (const name of USED[command]) {
    const kvm = KVM_TIMEOUT_SECONDS[name];
    const seconds = waitBoundSeconds(plan, kvm ?? KUBEADM_DEFAULT_TIMEOUT_SECONDS[name]);
    if (kvm !== undefined || seconds !== KUBEADM_DEFAULT_TIMEOUT_SECONDS[name]) timeouts[name] = goDuration(seconds);
  }
  return timeouts;
}
