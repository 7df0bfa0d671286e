import { Cni } from '../spec';

/**
 * Versions the bootstrap pins besides Kubernetes itself (spec.kubernetes.version). Change them
 * here; the rendered user-data, its golden snapshots and the README follow.
 */

/**
 * The sandbox (pause) image kubeadm of each minor release expects (`PauseVersion` in
 * k8s.io/kubernetes cmd/kubeadm/app/constants/constants.go of that release; read from the Go module
 * cache for v1.34.2–4, v1.35.4, v1.36.1/3 and v1.37.2). containerd must use the same one, or kubeadm's
 * preflight warns and the kubelet's pods and kubeadm's image list disagree.
 */
export const PAUSE_VERSION_BY_MINOR: Readonly<Record<number, string>> = {
  34: '3.10.1',
  35: '3.10.1',
  36: '3.10.2',
  37: '3.10.2',
};

/** The registry kubeadm pulls control-plane images from by default. */
export const KUBERNETES_IMAGE_REGISTRY = 'registry.k8s.io';

/** Calico release whose `manifests/calico.yaml` is applied (spec.kubernetes.cni: calico). */
export const CALICO_VERSION = 'v3.32.4';
/** Flannel release whose `kube-flannel.yml` is applied (spec.kubernetes.cni: flannel). */
export const FLANNEL_VERSION = 'v0.28.10';

/**
 * The flannel CNI plugin image of the node image (spec image.prebaked). Upstream's
 * ghcr.io/flannel-io/flannel-cni-plugin is built from github.com/flannel-io/cni-plugin, which the Go
 * module proxy refuses; the node image builds the same plugin from its older home,
 * github.com/containernetworking/plugins at `bakedTag` (tools/flannel-cni-plugin/go.mod, a unit
 * test keeps them equal), and names it for what it is. The prebaked CNI kustomization maps
 * upstream's name to it (kustomize `images:`), so kube-flannel.yml itself stays unmodified.
 */
export const BAKED_FLANNEL_CNI_PLUGIN_IMAGE = {
  upstreamName: 'ghcr.io/flannel-io/flannel-cni-plugin',
  bakedName: 'k8s-lab.local/flannel-cni-plugin',
  bakedTag: 'v0.9.1',
  /**
   * The newest CNI spec version that plugin speaks (its `CNI_COMMAND=VERSION` answer: 0.1.0 … 0.4.0).
   * kube-flannel.yml of FLANNEL_VERSION asks for 1.0.0 in its cni-conf.json, so the prebaked
   * kustomization sets this instead (found by the end-to-end tier: "incompatible CNI versions").
   */
  cniVersion: '0.4.0',
} as const;

/** `1.36` of `1.36.3`. */
export function kubernetesMinor(version: string): { readonly major: number; readonly minor: number; readonly text: string } {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new Error(`kubernetes.version must be MAJOR.MINOR.PATCH such as 1.36.3, got ${JSON.stringify(version)}`);
  return { major: +m[1], minor: +m[2], text: `${m[1]}.${m[2]}` };
}

/** `registry.k8s.io/pause:<version>` for a Kubernetes release. */
export function pauseImageFor(kubernetesVersion: string): string {
  const { minor, text } = kubernetesMinor(kubernetesVersion);
  const pause = PAUSE_VERSION_BY_MINOR[minor];
  if (pause === undefined) {
    const known = Object.keys(PAUSE_VERSION_BY_MINOR).map((m) => `1.${m}`).join(', ');
    throw new Error(`kubernetes.version ${kubernetesVersion}: no pause image known for ${text} (known: ${known}); add kubeadm's PauseVersion of ${text} to PAUSE_VERSION_BY_MINOR`);
  }
  return `${KUBERNETES_IMAGE_REGISTRY}/pause:${pause}`;
}

/** The pkgs.k8s.io apt repository of a release's minor line, e.g. https://pkgs.k8s.io/core:/stable:/v1.36/deb/ */
export function kubernetesAptRepository(kubernetesVersion: string): string {
  return `https://pkgs.k8s.io/core:/stable:/v${kubernetesMinor(kubernetesVersion).text}/deb/`;
}

/** Where the CNI's manifest is downloaded from on the first control plane, and its file name. */
export function cniManifest(cni: Cni): { readonly url: string; readonly fileName: string; readonly version: string } {
  switch (cni) {
    case Cni.CALICO:
      return { url: `https://raw.githubusercontent.com/projectcalico/calico/${CALICO_VERSION}/manifests/calico.yaml`, fileName: 'calico.yaml', version: CALICO_VERSION };
    case Cni.FLANNEL:
      return { url: `https://github.com/flannel-io/flannel/releases/download/${FLANNEL_VERSION}/kube-flannel.yml`, fileName: 'kube-flannel.yml', version: FLANNEL_VERSION };
  }
}
