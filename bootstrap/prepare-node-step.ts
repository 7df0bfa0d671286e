import { ClusterPlan } from '../spec';
import { containerdConfig } from './containerd-config';
import { kubernetesAptRepository, kubernetesMinor } from './pinned-versions';
import { BootstrapStep, fileOf } from './private/bootstrap-step';
import { bashScript, shellConst } from './private/shell';
import { VM_PATHS } from './private/vm-paths';

/** The step's name: `/usr/local/sbin/k8s-lab-prepare-node.sh`, log prefix `[k8s-lab prepare-node]`. */
export const PREPARE_NODE_STEP = 'prepare-node';

/** The Kubernetes packages every control plane and worker installs, pinned to spec.kubernetes.version. */
export const KUBERNETES_PACKAGES = ['kubelet', 'kubeadm', 'kubectl'] as const;

/**
 * Common preparation of a control plane or worker (Ubuntu 24.04 cloud image): swap off, kernel
 * modules overlay + br_netfilter, forwarding/bridge sysctls, containerd with systemd cgroups and
 * kubeadm's pause image, the pkgs.k8s.io repository of the release's minor line (signing key
 * fetched at boot), kubelet/kubeadm/kubectl pinned to `<version>-*` and held. Idempotent.
 */
export function prepareNodeStep(plan: ClusterPlan): BootstrapStep {
  const version = plan.spec.kubernetes.version;
  const repo = kubernetesAptRepository(version);
  const versionGlob = `${version}-*`;
  const files = [
    fileOf(VM_PATHS.modulesLoad, ['# Written by k8s-lab cloud-init: kernel modules of a Kubernetes node.', 'overlay', 'br_netfilter'], '0644'),
    fileOf(
      VM_PATHS.sysctl,
      [
        '# Written by k8s-lab cloud-init: packet forwarding for pods and services.',
        'net.ipv4.ip_forward = 1',
        'net.bridge.bridge-nf-call-iptables = 1',
        'net.bridge.bridge-nf-call-ip6tables = 1',
      ],
      '0644',
    ),
    fileOf(VM_PATHS.stagedContainerdConfig, containerdConfig(version), '0644'),
    fileOf(VM_PATHS.crictlConfig, ['runtime-endpoint: unix:///run/containerd/containerd.sock', 'image-endpoint: unix:///run/containerd/containerd.sock'], '0644'),
    // Staged, not written to sources.list.d: apt would fail on a source whose key is not there yet.
    fileOf(VM_PATHS.stagedKubernetesAptSource, [`deb [signed-by=${VM_PATHS.kubernetesAptKeyring}] ${repo} /`], '0644'),
    fileOf(
      VM_PATHS.kubernetesAptPin,
      ['# Written by k8s-lab cloud-init: the cluster runs exactly this Kubernetes release.', `Package: ${KUBERNETES_PACKAGES.join(' ')}`, `Pin: version ${versionGlob}`, 'Pin-Priority: 1001'],
      '0644',
    ),
  ];

  const body = [
    'export DEBIAN_FRONTEND=noninteractive',
    shellConst('repo_key_url', `${repo}Release.key`),
    shellConst('keyring', VM_PATHS.kubernetesAptKeyring),
    shellConst('version_glob', versionGlob),
    '',
    'echo "swap: off, now and at boot (the kubelet refuses to start with swap on)"',
    'swapoff -a',
    "sed -i -E '/^[^#].*[[:space:]]swap[[:space:]]/ s/^/# disabled by k8s-lab: /' /etc/fstab",
    '',
    'echo "kernel modules: overlay, br_netfilter; sysctls: forwarding and bridge netfilter"',
    'modprobe overlay',
    'modprobe br_netfilter',
    'sysctl --quiet --system',
    '',
    'echo "packages: containerd and what fetching the Kubernetes repository key needs"',
    'apt-get update -q',
    'apt-get install -y -q -o Dpkg::Options::=--force-confold containerd ca-certificates curl gpg',
    '',
    `echo "containerd: ${VM_PATHS.containerdConfig} (SystemdCgroup = true, kubeadm's pause image)"`,
    `install -d -m 0755 ${VM_PATHS.containerdConfig.replace(/\/[^/]+$/, '')}`,
    `if ! cmp -s ${VM_PATHS.stagedContainerdConfig} ${VM_PATHS.containerdConfig}; then`,
    `  install -m 0644 ${VM_PATHS.stagedContainerdConfig} ${VM_PATHS.containerdConfig}`,
    '  systemctl restart containerd',
    'fi',
    'systemctl enable --now containerd',
    '',
    'echo "Kubernetes apt repository: ${repo_key_url%Release.key}"',
    'if [[ ! -s "${keyring}" ]]; then',
    '  install -d -m 0755 "$(dirname "${keyring}")"',
    '  curl -fsSL --retry 5 --retry-delay 5 "${repo_key_url}" | gpg --batch --yes --dearmor -o "${keyring}.tmp"',
    '  chmod 0644 "${keyring}.tmp"',
    '  mv "${keyring}.tmp" "${keyring}"',
    'fi',
    `install -m 0644 ${VM_PATHS.stagedKubernetesAptSource} ${VM_PATHS.kubernetesAptSource}`,
    'apt-get update -q',
    '',
    `echo "Kubernetes packages: ${KUBERNETES_PACKAGES.join(', ')} \${version_glob}, held"`,
    `apt-mark unhold ${KUBERNETES_PACKAGES.join(' ')} >/dev/null 2>&1 || true`,
    `apt-get install -y -q ${KUBERNETES_PACKAGES.map((p) => `"${p}=\${version_glob}"`).join(' ')}`,
    `apt-mark hold ${KUBERNETES_PACKAGES.join(' ')}`,
    'systemctl enable kubelet',
    'kubeadm version -o short',
  ];
  return {
    name: PREPARE_NODE_STEP,
    files,
    script: bashScript({
      description: [
        `Prepares this node for Kubernetes ${version} (kubernetes ${kubernetesMinor(version).text} packages from pkgs.k8s.io).`,
        'Written by k8s-lab cloud-init; idempotent: safe to run again.',
      ],
      body,
    }),
  };
}
