import { ClusterPlan } from '../spec';
import { APT_UPDATE_PATH } from './apt-config';
import { containerdConfig } from './containerd-config';
import { KUBERNETES_CONTAINERD_NAMESPACE, NODE_IMAGE_PATHS } from './node-image';
import { kubernetesAptRepository, kubernetesMinor } from './pinned-versions';
import { BootstrapStep, fileOf } from './private/bootstrap-step';
import { bashScript, shellConst, shellQuote } from './private/shell';
import { VM_PATHS } from './private/vm-paths';

/** The step's name: `/usr/local/sbin/k8s-lab-prepare-node.sh`, log prefix `[k8s-lab prepare-node]`. */
export const PREPARE_NODE_STEP = 'prepare-node';
/** The first Kubernetes minor whose kubelet needs containerd 2.0 or newer. */
export const CONTAINERD_2_FROM_MINOR = 37;

/** The Kubernetes packages every control plane and worker installs, pinned to spec.kubernetes.version. */
export const KUBERNETES_PACKAGES = ['kubelet', 'kubeadm', 'kubectl'] as const;

/** Kernel modules a Kubernetes node needs: overlay (containerd's snapshotter), br_netfilter (bridged pod traffic through iptables). */
export const NODE_KERNEL_MODULES = ['overlay', 'br_netfilter'] as const;

/** One sysctl the node sets, and whether the step fails when it cannot. */
export interface NodeSysctl {
  readonly key: string;
  readonly value: string;
  /** true: the step fails when the key cannot be set; false: a WARNING line names it and the step goes on. */
  readonly required: boolean;
  /** Why the node needs it: part of the line that reports a key it cannot set. */
  readonly why: string;
}

/**
 * The sysctls of a Kubernetes node. ip_forward is required: pods and Services are routed through the node, and
 * kubeadm 1.36's preflight (FileContent--proc-sys-net-ipv4-ip_forward) stops init and join without it. The
 * bridge-nf-call keys are reported but not fatal: kubeadm 1.36 no longer checks them, they exist only once
 * br_netfilter is there, and a node whose CNI does not bridge (or whose kernel sets them already in its own
 * namespace) works without; a node that needs them shows it in Service traffic between pods of one node.
 */
export const NODE_SYSCTLS: readonly NodeSysctl[] = [
  { key: 'net.ipv4.ip_forward', value: '1', required: true, why: 'pods and Services are routed through this node; kubeadm preflight requires it' },
  { key: 'net.bridge.bridge-nf-call-iptables', value: '1', required: false, why: 'bridged pod traffic must pass iptables for Services' },
  { key: 'net.bridge.bridge-nf-call-ip6tables', value: '1', required: false, why: 'bridged pod traffic must pass ip6tables for Services' },
];

/**
 * Common preparation of a control plane or worker (Ubuntu 24.04 cloud image): swap off, kernel
 * modules overlay + br_netfilter, forwarding/bridge sysctls, containerd with systemd cgroups and
 * kubeadm's pause image, the pkgs.k8s.io repository of the release's minor line (signing key
 * fetched at boot), kubelet/kubeadm/kubectl pinned to `<version>-*` and held. Idempotent.
 *
 * With spec.image.prebaked (the k8s-lab node image, node-image.ts) nothing comes from the network: the step first asks
 * the baked kubeadm, kubelet and kubectl their versions and stops, naming both, if one is not kubernetes.version; then
 * swap, modules, sysctls and containerd as above, and every image archive the node image carries is imported into
 * containerd's k8s.io namespace (what `kubeadm init`/`join` would pull).
 *
 * Both paths: a kernel module that is present (/sys/module) is not loaded again, and one that cannot be loaded
 * because the kernel has no /lib/modules/<release> (built-in modules, container nodes) is reported, not fatal; each
 * sysctl the node cannot set is reported by key, and a required one (NODE_SYSCTLS) stops the step.
 */
export function prepareNodeStep(plan: ClusterPlan): BootstrapStep {
  const version = plan.spec.kubernetes.version;
  const repo = kubernetesAptRepository(version);
  const versionGlob = `${version}-*`;
  const prebaked = plan.spec.image.prebaked;
  const files = [
    fileOf(VM_PATHS.modulesLoad, ['# Written by k8s-lab cloud-init: kernel modules of a Kubernetes node.', ...NODE_KERNEL_MODULES], '0644'),
    fileOf(
      VM_PATHS.sysctl,
      ['# Written by k8s-lab cloud-init: packet forwarding for pods and services.', ...NODE_SYSCTLS.map((s) => `${s.key} = ${s.value}`)],
      '0644',
    ),
    fileOf(VM_PATHS.stagedContainerdConfig, containerdConfig(version, { restrictOomScoreAdj: plan.spec.containerd.restrictOomScoreAdj }), '0644'),
    fileOf(VM_PATHS.crictlConfig, ['runtime-endpoint: unix:///run/containerd/containerd.sock', 'image-endpoint: unix:///run/containerd/containerd.sock'], '0644'),
    ...(prebaked
      ? []
      : [
          // Staged, not written to sources.list.d: apt would fail on a source whose key is not there yet.
          fileOf(VM_PATHS.stagedKubernetesAptSource, [`deb [signed-by=${VM_PATHS.kubernetesAptKeyring}] ${repo} /`], '0644'),
          fileOf(
            VM_PATHS.kubernetesAptPin,
            ['# Written by k8s-lab cloud-init: the cluster runs exactly this Kubernetes release.', `Package: ${KUBERNETES_PACKAGES.join(' ')}`, `Pin: version ${versionGlob}`, 'Pin-Priority: 1001'],
            '0644',
          ),
        ]),
  ];

  // kubeadm 1.36 warns that 1.37 drops the kubelet's fallback for a runtime without the CRI RuntimeConfig call,
  // which containerd has from 2.0 on; a cloud image's containerd package is older (Ubuntu 24.04: 1.7). Checked
  // right after the install, so the step stops with the reason instead of a kubelet that cannot start.
  const { minor, text: minorText } = kubernetesMinor(version);
  const containerdVersionCheck =
    minor >= CONTAINERD_2_FROM_MINOR
      ? [
          `echo "containerd: kubelet ${minorText} needs 2.0 or newer (the CRI RuntimeConfig call)"`,
          "containerd_version=\"$(containerd --version | awk '{print $3}')\"",
          'if [[ "${containerd_version#v}" =~ ^([0-9]+)\\. ]] && ((BASH_REMATCH[1] >= 2)); then',
          '  echo "containerd ${containerd_version}: new enough"',
          'else',
          `  echo "containerd \${containerd_version} is older than 2.0, which kubelet ${minorText} needs (the CRI RuntimeConfig call): use a base image whose containerd package is 2.x, or kubernetes.version 1.36" >&2`,
          '  exit 1',
          'fi',
        ]
      : [];
  const swapModulesSysctls = [
    'echo "swap: off, now and at boot (the kubelet refuses to start with swap on)"',
    'swapoff -a',
    "sed -i -E '/^[^#].*[[:space:]]swap[[:space:]]/ s/^/# disabled by k8s-lab: /' /etc/fstab",
    '',
    ...kernelModuleLines(),
    '',
    ...sysctlLines(),
  ];
  const containerd = [
    `echo "containerd: ${VM_PATHS.containerdConfig} (SystemdCgroup = true, kubeadm's pause image)"`,
    `install -d -m 0755 ${VM_PATHS.containerdConfig.replace(/\/[^/]+$/, '')}`,
    `if ! cmp -s ${VM_PATHS.stagedContainerdConfig} ${VM_PATHS.containerdConfig}; then`,
    `  install -m 0644 ${VM_PATHS.stagedContainerdConfig} ${VM_PATHS.containerdConfig}`,
    '  systemctl restart containerd',
    'fi',
    'systemctl enable --now containerd',
  ];
  const body = prebaked
    ? [
        shellConst('kubernetes_version', `v${version}`),
        shellConst('image_dir', NODE_IMAGE_PATHS.imageDir),
        '',
        ...bakedVersionCheckLines(),
        '',
        ...swapModulesSysctls,
        '',
        ...containerd,
        '',
        ...bakedImageImportLines(),
        '',
        'systemctl enable kubelet',
        'kubeadm version -o short',
      ]
    : [
        'export DEBIAN_FRONTEND=noninteractive',
        shellConst('repo_key_url', `${repo}Release.key`),
        shellConst('keyring', VM_PATHS.kubernetesAptKeyring),
        shellConst('version_glob', versionGlob),
        '',
        ...swapModulesSysctls,
        '',
        'echo "packages: containerd and what fetching the Kubernetes repository key needs"',
        APT_UPDATE_PATH,
        'apt-get install -y -q -o Dpkg::Options::=--force-confold containerd ca-certificates curl gpg',
        ...containerdVersionCheck,
        '',
        ...containerd,
        '',
        'echo "Kubernetes apt repository: ${repo_key_url%Release.key}"',
        'if [[ ! -s "${keyring}" ]]; then',
        '  install -d -m 0755 "$(dirname "${keyring}")"',
        '  curl -fsSL --retry 5 --retry-delay 5 "${repo_key_url}" | gpg --batch --yes --dearmor -o "${keyring}.tmp"',
        '  chmod 0644 "${keyring}.tmp"',
        '  mv "${keyring}.tmp" "${keyring}"',
        'fi',
        `install -m 0644 ${VM_PATHS.stagedKubernetesAptSource} ${VM_PATHS.kubernetesAptSource}`,
        APT_UPDATE_PATH,
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
        prebaked
          ? `Prepares this node for Kubernetes ${version} from the k8s-lab node image (nothing from the network).`
          : `Prepares this node for Kubernetes ${version} (kubernetes ${kubernetesMinor(version).text} packages from pkgs.k8s.io).`,
        'Written by k8s-lab cloud-init; idempotent: safe to run again.',
      ],
      body,
    }),
  };
}

/** Loads NODE_KERNEL_MODULES, tolerating modules that are built in or cannot be loaded on a kernel without /lib/modules. */
function kernelModuleLines(): string[] {
  return [
    `echo "kernel modules: ${NODE_KERNEL_MODULES.join(', ')}"`,
    '# A module that is loaded, or built into the kernel, has /sys/module/<name>. Without /lib/modules/<release>',
    '# (a kernel without loadable modules, a container node) modprobe can load nothing: report it and go on; a',
    '# feature really missing then shows in the sysctls below. With /lib/modules, a failing modprobe stops the step.',
    `for module in ${NODE_KERNEL_MODULES.join(' ')}; do`,
    '  if [[ -d "/sys/module/${module}" ]]; then',
    '    echo "kernel module ${module}: present (loaded, or built into the kernel)"',
    '  elif [[ -d "/lib/modules/$(uname -r)" ]]; then',
    '    modprobe "${module}"',
    '    echo "kernel module ${module}: loaded"',
    '  else',
    '    echo "kernel module ${module}: not loaded, and no /lib/modules/$(uname -r) to load it from; going on (built into the kernel, or missing)"',
    '  fi',
    'done',
  ];
}

/** Sets NODE_SYSCTLS now (the sysctl.d file sets them at boot), reporting each key the node cannot set. */
function sysctlLines(): string[] {
  return [
    `echo "sysctls: forwarding and bridge netfilter (also set at boot by ${VM_PATHS.sysctl})"`,
    '# set_sysctl KEY VALUE required|optional WHY: sets KEY unless it already is VALUE. A key the node cannot set is',
    '# reported by name: a required one stops the step, an optional one is a WARNING line.',
    'set_sysctl() {',
    '  local key="$1" want="$2" need="$3" why="$4" got',
    '  got="$(sysctl -n "${key}" 2>/dev/null)" || got=""',
    '  if [[ "${got}" == "${want}" ]]; then',
    '    echo "sysctl ${key} = ${want}"',
    '  elif sysctl -q -w "${key}=${want}"; then',
    '    echo "sysctl ${key} = ${want} (was ${got:-unset})"',
    '  elif [[ "${need}" == required ]]; then',
    '    echo "sysctl ${key}: cannot set it to ${want} (it is ${got:-missing}); required: ${why}" >&2',
    '    return 1',
    '  else',
    '    echo "WARNING: sysctl ${key}: cannot set it to ${want} (it is ${got:-missing}); going on, but ${why}" >&2',
    '  fi',
    '}',
    ...NODE_SYSCTLS.map((s) => `set_sysctl ${shellQuote(s.key)} ${shellQuote(s.value)} ${s.required ? 'required' : 'optional'} ${shellQuote(s.why)}`),
  ];
}

/** Prebaked: asks the baked kubeadm, kubelet and kubectl their versions; any other than ${kubernetes_version} stops the step. */
function bakedVersionCheckLines(): string[] {
  return [
    '# The node image must carry exactly the spec\'s release: ask each binary (never trust a label).',
    'baked_mismatch=0',
    'check_baked() {',
    '  local component="$1" baked="$2"',
    '  if [[ "${baked}" == "${kubernetes_version}" ]]; then',
    '    echo "node image: ${component} ${baked}"',
    '  else',
    '    echo "node image: ${component} is ${baked:-missing or printed no version}, but kubernetes.version is ${kubernetes_version}" >&2',
    '    baked_mismatch=1',
    '  fi',
    '}',
    'check_baked kubeadm "$(kubeadm version -o short)"',
    `check_baked kubelet "$(kubelet --version | awk '{print $NF}')"`,
    `check_baked kubectl "$(kubectl version --client -o json | sed -n -E 's/^ *"gitVersion": *"([^"]*)".*/\\1/p')"`,
    'if ((baked_mismatch)); then',
    '  echo "this node image does not carry Kubernetes ${kubernetes_version}: boot one built for it (npm run image), or set kubernetes.version to the image\'s; nothing was changed" >&2',
    '  exit 1',
    'fi',
  ];
}

/** Prebaked: imports every image archive of the node image into the kubelet's containerd namespace. */
function bakedImageImportLines(): string[] {
  const ns = KUBERNETES_CONTAINERD_NAMESPACE;
  return [
    `echo "images: every archive in \${image_dir} into containerd (namespace ${ns}), instead of pulling"`,
    'shopt -s nullglob',
    'archives=("${image_dir}"/*.tar)',
    'shopt -u nullglob',
    'if ((${#archives[@]} == 0)); then',
    '  echo "no image archives in ${image_dir}: is this the k8s-lab node image? (image.prebaked is true)" >&2',
    '  exit 1',
    'fi',
    '# Importing an image that is already there stores the same content again: safe to re-run.',
    'for archive in "${archives[@]}"; do',
    '  echo "images: ${archive}"',
    `  ctr -n ${ns} images import "\${archive}"`,
    'done',
  ];
}
