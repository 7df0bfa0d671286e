import { KUBEADM_CONFIG_PATH } from '../kubeadm-config';

/**
 * Where the bootstrap puts things on the VMs. One place, so scripts, cloud-config entries and
 * tests agree.
 */
export const VM_PATHS = {
  /** Everything the bootstrap stages for its scripts (configs they install, the kubeadm config). */
  stateDir: '/etc/k8s-lab',
  /** The node's identity, one line of JSON. */
  nodeMarker: '/etc/k8s-lab/node.json',
  /** The kubeadm configuration of this node (holds the bootstrap token and certificate key: 0600). */
  kubeadmConfig: KUBEADM_CONFIG_PATH,
  /** The cluster CA as staged on the first control plane, re-installed before every `kubeadm init` attempt. */
  stagedCaCert: '/etc/k8s-lab/pki/ca.crt',
  stagedCaKey: '/etc/k8s-lab/pki/ca.key',
  /** Where kubeadm expects the cluster CA. */
  kubernetesCaCert: '/etc/kubernetes/pki/ca.crt',
  kubernetesCaKey: '/etc/kubernetes/pki/ca.key',
  /** kubeadm's admin kubeconfig, written by `kubeadm init` on the first control plane. */
  adminKubeconfig: '/etc/kubernetes/admin.conf',
  /** The kubelet's kubeconfig: present once a node has joined (or been initialised). */
  kubeletKubeconfig: '/etc/kubernetes/kubelet.conf',
  /** The operator's kubeconfig on the first control plane (owned by `ubuntu`, 0600). */
  operatorKubeconfig: '/home/ubuntu/.kube/config',
  /** The kustomization that installs the CNI (the upstream manifest plus our pod-network patch). */
  cniDir: '/etc/k8s-lab/cni',
  /** containerd's configuration as staged, and where containerd reads it. */
  stagedContainerdConfig: '/etc/k8s-lab/containerd/config.toml',
  containerdConfig: '/etc/containerd/config.toml',
  /** The Kubernetes apt source as staged (installed once its signing key is there), and its target. */
  stagedKubernetesAptSource: '/etc/k8s-lab/apt/kubernetes.list',
  kubernetesAptSource: '/etc/apt/sources.list.d/kubernetes.list',
  kubernetesAptKeyring: '/etc/apt/keyrings/kubernetes-apt-keyring.gpg',
  kubernetesAptPin: '/etc/apt/preferences.d/k8s-lab-kubernetes',
  /** haproxy.cfg as staged, checked with `haproxy -c` before it replaces the live one. */
  stagedHaproxyConfig: '/etc/k8s-lab/haproxy/haproxy.cfg',
  /** Kernel modules and sysctls of a Kubernetes node. */
  modulesLoad: '/etc/modules-load.d/k8s-lab.conf',
  sysctl: '/etc/sysctl.d/99-k8s-lab.conf',
  crictlConfig: '/etc/crictl.yaml',
  /** Step scripts: `/usr/local/sbin/k8s-lab-<step>.sh`; the runner that calls them in order. */
  scriptDir: '/usr/local/sbin',
  runner: '/usr/local/sbin/k8s-lab-bootstrap',
  /** Marker written when every step of the node succeeded. */
  doneMarker: '/var/lib/k8s-lab/bootstrap.done',
} as const;

/** The path of a step's script. */
export function stepScriptPath(step: string): string {
  return `${VM_PATHS.scriptDir}/k8s-lab-${step}.sh`;
}
