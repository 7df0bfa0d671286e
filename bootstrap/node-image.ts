import { Cni } from '../spec';
import { cniManifest } from './pinned-versions';

/**
 * Where the k8s-lab node image (`npm run image`, spec `image.prebaked: true`) keeps what a node would otherwise
 * download: the contract between the image build and the renderers (see the README "Node image"). The Kubernetes
 * binaries sit where Kubernetes' own .deb packages put them (/usr/bin/kubelet, kubeadm, kubectl); containerd, runc,
 * haproxy and keepalived are Debian's packages, installed in the image.
 */
export const NODE_IMAGE_ROOT = '/opt/k8s-lab';

export const NODE_IMAGE_PATHS = {
  /** The image's own root: everything below is the image's, never written at boot. */
  root: NODE_IMAGE_ROOT,
  /** One archive per container image, each accepted by `ctr -n k8s.io images import` (bakedImageArchive). */
  imageDir: `${NODE_IMAGE_ROOT}/images`,
  /** The CNI's unmodified upstream manifest (bakedCniManifest). */
  cniDir: `${NODE_IMAGE_ROOT}/cni`,
  /** What the image holds: component → version → sha256, image name → archive. */
  manifest: `${NODE_IMAGE_ROOT}/image-manifest.json`,
} as const;

/**
 * The archive a baked image is kept in: its repository's last path segment, `.tar`
 * (registry.k8s.io/etcd:3.6.8-0 → /opt/k8s-lab/images/etcd.tar, registry.k8s.io/coredns/coredns:v1.14.2 →
 * coredns.tar). The external etcd member imports its etcd image by this name.
 */
export function bakedImageArchive(image: string): string {
  const m = /^(?:[^/]+\/)*([a-z0-9][a-z0-9._-]*)(?::[\w][\w.-]*)?(?:@sha256:[0-9a-f]{64})?$/.exec(image);
  if (!m) throw new Error(`bakedImageArchive: ${JSON.stringify(image)} is not an image reference such as registry.k8s.io/etcd:3.6.8-0`);
  return `${NODE_IMAGE_PATHS.imageDir}/${m[1]}.tar`;
}

/** Where the node image keeps a CNI's manifest, under the file name the online path downloads it as. */
export function bakedCniManifest(cni: Cni): string {
  return `${NODE_IMAGE_PATHS.cniDir}/${cniManifest(cni).fileName}`;
}

/** The containerd namespace the kubelet's images live in (CRI): baked archives are imported there. */
export const KUBERNETES_CONTAINERD_NAMESPACE = 'k8s.io';

/**
 * Prebaked: instead of `apt-get install PROGRAM`, a check that the node image has it, naming the image when not.
 * The program's name is also its Debian package's (haproxy, keepalived).
 */
export function bakedPackageLines(program: 'haproxy' | 'keepalived' | 'containerd' | 'nft'): string[] {
  return [
    `if ! command -v ${program} >/dev/null; then`,
    `  echo "${program} is not installed: is this the k8s-lab node image? (image.prebaked is true, so nothing is installed with apt)" >&2`,
    '  exit 1',
    'fi',
    `echo "packages: ${program} from the node image"`,
  ];
}
