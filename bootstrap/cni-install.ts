import * as YAML from 'yaml';
import { Cni, ClusterPlan } from '../spec';
import { BAKED_FLANNEL_CNI_PLUGIN_IMAGE, cniManifest } from './pinned-versions';
import { CloudConfigFile } from './cloud-config';
import { VM_PATHS } from './private/vm-paths';

/** The patch file of the kustomization, beside the downloaded manifest. */
const PATCH_FILE = 'pod-network.yaml';

/**
 * How the first control plane installs the CNI once: the pinned upstream manifest is downloaded
 * into VM_PATHS.cniDir, and a kustomization (typed objects, rendered here) patches the pod network
 * into it, so no downloaded text is edited with sed:
 *  - calico: env CALICO_IPV4POOL_CIDR = spec.kubernetes.podCidr on the calico-node container;
 *  - flannel: net-conf.json `Network` = spec.kubernetes.podCidr.
 * `kubectl apply -k` (kustomize is built into kubectl) applies the result.
 */
export interface CniInstall {
  /** The kustomization and its patch. */
  readonly files: readonly CloudConfigFile[];
  /** The manifest's URL (a pinned release) and the file name it is saved as. */
  readonly manifestUrl: string;
  readonly manifestFile: string;
}

/** The CNI install of a plan (spec.kubernetes.cni, spec.kubernetes.podCidr). */
export function cniInstall(plan: ClusterPlan): CniInstall {
  const { cni, podCidr } = plan.spec.kubernetes;
  const manifest = cniManifest(cni);
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [manifest.fileName],
    patches: [{ path: PATCH_FILE }],
    ...(plan.spec.image.prebaked ? bakedImageOverrides(cni) : {}),
  };
  const yamlFile = (name: string, doc: unknown): CloudConfigFile => ({
    path: `${VM_PATHS.cniDir}/${name}`,
    content: `# Written by k8s-lab cloud-init: ${cni} ${manifest.version} with pod network ${podCidr}.\n` + YAML.stringify(doc, { lineWidth: 0 }),
    permissions: '0644',
  });
  return {
    files: [yamlFile('kustomization.yaml', kustomization), yamlFile(PATCH_FILE, podNetworkPatch(cni, podCidr, plan.spec.image.prebaked))],
    manifestUrl: manifest.url,
    manifestFile: manifest.fileName,
  };
}

/**
 * Prebaked: the images the node image carries under a name of its own (BAKED_FLANNEL_CNI_PLUGIN_IMAGE),
 * mapped from the upstream names the manifest uses.
 */
function bakedImageOverrides(cni: Cni): { images?: { name: string; newName: string; newTag: string }[] } {
  switch (cni) {
    case Cni.FLANNEL: {
      const { upstreamName, bakedName, bakedTag } = BAKED_FLANNEL_CNI_PLUGIN_IMAGE;
      return { images: [{ name: upstreamName, newName: bakedName, newTag: bakedTag }] };
    }
    case Cni.CALICO:
      return {};
  }
}

/**
 * A strategic-merge patch that sets the pod network of the CNI's upstream manifest. Prebaked flannel
 * also gets a cni-conf.json whose cniVersion the baked CNI plugin speaks (the rest as upstream's).
 */
function podNetworkPatch(cni: Cni, podCidr: string, prebaked: boolean): unknown {
  switch (cni) {
    case Cni.CALICO:
      return {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'calico-node', namespace: 'kube-system' },
        spec: { template: { spec: { containers: [{ name: 'calico-node', env: [{ name: 'CALICO_IPV4POOL_CIDR', value: podCidr }] }] } } },
      };
    case Cni.FLANNEL: {
      const netConf = { Network: podCidr, EnableNFTables: false, Backend: { Type: 'vxlan' } };
      return {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel' },
        data: {
          ...(prebaked ? { 'cni-conf.json': JSON.stringify(bakedFlannelCniConf(), null, 2) + '\n' } : {}),
          'net-conf.json': JSON.stringify(netConf, null, 2) + '\n',
        },
      };
    }
  }
}

/**
 * kube-flannel.yml's cni-conf.json (FLANNEL_VERSION), with the cniVersion the baked flannel CNI plugin
 * speaks: the flannel plugin delegating to a hairpin bridge that is the pods' default gateway, then portmap.
 */
function bakedFlannelCniConf(): unknown {
  return {
    name: 'cbr0',
    cniVersion: BAKED_FLANNEL_CNI_PLUGIN_IMAGE.cniVersion,
    plugins: [
      { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}
