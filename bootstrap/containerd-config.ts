import { pauseImageFor } from './pinned-versions';

/** Settings of containerd's CRI plugin that a spec may change (spec.containerd). */
export interface ContainerdOptions {
  /**
   * CRI `restrict_oom_score_adj = true`: a container's oom_score_adj is never set below containerd's own. For nodes
   * whose processes lack CAP_SYS_RESOURCE (container nodes), where lowering it fails. Left out when false.
   * @default false
   */
  readonly restrictOomScoreAdj?: boolean;
}

/**
 * /etc/containerd/config.toml of a Kubernetes node, as TOML lines. Config version 2 is what
 * Ubuntu 24.04's containerd 1.7 reads; containerd 2.x migrates version 2 files on load.
 *  - SystemdCgroup = true: the kubelet (kubeadm's default cgroupDriver: systemd) and runc must
 *    agree, or control-plane static pods crash-loop.
 *  - sandbox_image: the pause image of kubeadm's release (PAUSE_VERSION_BY_MINOR).
 *  - the CNI directories set explicitly: Debian/Ubuntu builds look for plugins in /usr/lib/cni,
 *    while Calico and Flannel install theirs into /opt/cni/bin.
 */
export function containerdConfig(kubernetesVersion: string, options: ContainerdOptions = {}): string[] {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    '# Written by k8s-lab cloud-init: containerd for the kubelet.',
    'version = 2',
    '',
    `[${cri}]`,
    `  sandbox_image = ${tomlString(pauseImageFor(kubernetesVersion))}`,
    ...(options.restrictOomScoreAdj === true ? ['  restrict_oom_score_adj = true'] : []),
    '',
    `[${cri}.cni]`,
    `  bin_dir = ${tomlString('/opt/cni/bin')}`,
    `  conf_dir = ${tomlString('/etc/cni/net.d')}`,
    '',
    `[${cri}.containerd]`,
    `  default_runtime_name = ${tomlString('runc')}`,
    '',
    `[${cri}.containerd.runtimes.runc]`,
    `  runtime_type = ${tomlString('io.containerd.runc.v2')}`,
    '',
    `[${cri}.containerd.runtimes.runc.options]`,
    '  SystemdCgroup = true',
  ];
}

/** A TOML basic string (the JSON escapes of printable ASCII are valid TOML). */
function tomlString(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error(`containerd config values must be printable ASCII, got ${JSON.stringify(s)}`);
  return JSON.stringify(s);
}
