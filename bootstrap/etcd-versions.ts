import { KUBERNETES_IMAGE_REGISTRY, kubernetesMinor } from './pinned-versions';

/**
 * The etcd release an external etcd runs: the one kubeadm of the same Kubernetes minor runs for a
 * stacked etcd, so both topologies run the same bytes. Read from k8s.io/kubernetes
 * cmd/kubeadm/app/constants/constants.go in the Go module cache: v1.36.3 `SupportedEtcdVersion[36]`
 * = `DefaultEtcdVersion` = 3.6.8-0; v1.37.2 `DefaultEtcdVersion` = 3.7.0-0. Both kubeadms require an
 * external etcd >= `MinExternalEtcdVersion` = 3.5.24 (preflight ExternalEtcdVersion), which is why
 * Ubuntu 24.04's `etcd-server` package (the 3.4 line) cannot be used.
 */
export const ETCD_IMAGE_TAG_BY_MINOR: Readonly<Record<number, string>> = {
  36: '3.6.8-0',
  37: '3.7.0-0',
};

/** kubeadm's minimum external etcd version (MinExternalEtcdVersion of kubeadm 1.36 and 1.37). */
export const MIN_EXTERNAL_ETCD_VERSION = '3.5.24';

/** The etcd image and version of a Kubernetes release: `registry.k8s.io/etcd:3.6.8-0`, `3.6.8`. */
export function etcdReleaseFor(kubernetesVersion: string): { readonly image: string; readonly version: string } {
  const { minor, text } = kubernetesMinor(kubernetesVersion);
  const tag = ETCD_IMAGE_TAG_BY_MINOR[minor];
  if (tag === undefined) {
    const known = Object.keys(ETCD_IMAGE_TAG_BY_MINOR).map((m) => `1.${m}`).join(', ');
    throw new Error(`kubernetes.version ${kubernetesVersion}: no etcd release known for ${text} (known: ${known}); add kubeadm's etcd version of ${text} to ETCD_IMAGE_TAG_BY_MINOR`);
  }
  return { image: `${KUBERNETES_IMAGE_REGISTRY}/etcd:${tag}`, version: tag.replace(/-\d+$/, '') };
}
