import * as YAML from 'yaml';
import { API_SERVER_PORT, ClusterPlan, NodePlan, NodeRole } from '../spec';
import {
  ClusterConfiguration,
  InitConfiguration,
  JoinConfiguration,
  KUBEADM_API_VERSION,
  KUBELET_API_VERSION,
  KUBE_PROXY_API_VERSION,
  KubeadmArg,
  KubeadmDocument,
  KubeadmExternalEtcd,
  KubeadmNodeRegistration,
  KubeletConfiguration,
  KubeProxyConfiguration,
} from './private/kubeadm-types';
import { etcdClientEndpoints } from './etcd-member-config';
import { KubeadmCommand, kubeadmTimeouts } from './private/kubeadm-timeouts';
import { ETCD_PATHS } from './private/etcd-paths';
import { ClusterSecrets } from './secrets';

export * from './private/kubeadm-types';

/**
 * The kubeadm configuration file of one node (kubeadm.k8s.io/v1beta4). Pure: plan, node and secrets
 * in, the file's text out; the same input gives the same bytes.
 *
 * - The first control plane (index 0) runs `kubeadm init`: InitConfiguration + ClusterConfiguration
 *   + KubeletConfiguration.
 * - Every other control plane runs `kubeadm join` as a control plane, every worker as a worker:
 *   one JoinConfiguration each, discovering the cluster through the load balancer.
 *
 * The cluster CA is made in advance (ClusterSecrets.caCertPem/caKeyPem): the cloud-config writes it
 * to /etc/kubernetes/pki/ca.crt and ca.key on the FIRST control plane before `kubeadm init`, and
 * kubeadm then uses that CA instead of generating one. That is why the CA's public-key hash
 * (ClusterSecrets.caCertHash) is known at synth time and every join pins it in `caCertHashes` —
 * `unsafeSkipCAVerification` is never rendered.
 *
 * The file holds the bootstrap token and the certificate key: write it with mode 0600.
 */

/** Where the cloud-config writes the file on the node (mode 0600: it holds secrets). */
export const KUBEADM_CONFIG_PATH = '/etc/k8s-lab/kubeadm.yaml';

/** containerd's CRI socket, on every node. */
export const CRI_SOCKET = 'unix:///run/containerd/containerd.sock';

/**
 * How long the bootstrap token stays valid after `kubeadm init`: kubeadm's default, 24 h. Every
 * node of the plan boots together with the first control plane and joins within minutes, so a day is
 * ample; a node added to the cluster later than that needs the token re-created on the first control
 * plane (`kubeadm token create --config /etc/k8s-lab/kubeadm.yaml`, bootstrap/README.md). A token that never expires (`0s`) would be a
 * standing credential to join the cluster, so none is rendered. (The certificate key has its own,
 * shorter window: the kubeadm-certs Secret that `--upload-certs` creates is deleted after 2 h, so
 * further control planes must join within 2 h of init.)
 */
export const BOOTSTRAP_TOKEN_TTL = '24h0m0s';

/** The Kubernetes DNS domain of Services (`<svc>.<ns>.svc.cluster.local`). */
export const CLUSTER_DNS_DOMAIN = 'cluster.local';

/**
 * The documents of the first control plane's file: what `kubeadm init --config` reads. A KubeProxyConfiguration
 * follows only when spec.kubernetes.kubeProxy sets something (kubeadm's defaults otherwise).
 */
export type KubeadmInitDocuments =
  | readonly [InitConfiguration, ClusterConfiguration, KubeletConfiguration]
  | readonly [InitConfiguration, ClusterConfiguration, KubeletConfiguration, KubeProxyConfiguration];

/** True for the node that runs `kubeadm init`: the first control plane. */
export function isInitNode(node: NodePlan): boolean {
  return node.role === NodeRole.CONTROL_PLANE && node.index === 0;
}

/**
 * The kubeadm command line that consumes the file, as argv. The first control plane adds
 * `--upload-certs` (allowed together with `--config`): it stores the control-plane certificates,
 * encrypted with the certificate key, for the other control planes to download when they join. It
 * also adds `--skip-token-print --skip-certificate-key-print`: kubeadm init otherwise prints the
 * bootstrap token and the certificate key (and a join command with both), and cloud-init copies its
 * output to /var/log/cloud-init-output.log, the journal and the serial console (a file on the host).
 * The two together fetch and decrypt the cluster's CA keys for 2 h.
 */
export function kubeadmCommand(node: NodePlan): readonly string[] {
  checkKubeadmRole(node);
  return isInitNode(node) ? ['kubeadm', 'init', '--config', KUBEADM_CONFIG_PATH, '--upload-certs', '--skip-token-print', '--skip-certificate-key-print'] : ['kubeadm', 'join', '--config', KUBEADM_CONFIG_PATH];
}

/** The `host:port` every node and client uses for the API: the load balancer's name. */
export function controlPlaneEndpoint(plan: ClusterPlan): string {
  return `${plan.apiEndpoint.fqdn}:${plan.apiEndpoint.port}`;
}

/** The init documents of the first control plane. @throws when `node` is not the first control plane. */
export function kubeadmInitDocuments(plan: ClusterPlan, node: NodePlan, secrets: ClusterSecrets): KubeadmInitDocuments {
  checkNode(plan, node);
  if (!isInitNode(node)) {
    throw new Error(`kubeadmInitDocuments: node ${node.hostname} is a ${node.role} with index ${node.index}; only the first control plane (index 0) runs kubeadm init, use kubeadmJoinDocument`);
  }
  checkSecrets(secrets);
  const spec = plan.spec;
  const init: InitConfiguration = {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'InitConfiguration',
    bootstrapTokens: [
      {
        token: secrets.bootstrapToken,
        description: `${spec.name}: nodes join with it during cloud-init`,
        ttl: BOOTSTRAP_TOKEN_TTL,
        usages: ['signing', 'authentication'],
        groups: ['system:bootstrappers:kubeadm:default-node-token'],
      },
    ],
    nodeRegistration: nodeRegistration(plan, node),
    localAPIEndpoint: { advertiseAddress: node.ip, bindPort: API_SERVER_PORT },
    certificateKey: secrets.certificateKey,
    timeouts: kubeadmTimeouts(plan, KubeadmCommand.INIT),
  };
  const cluster: ClusterConfiguration = {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'ClusterConfiguration',
    kubernetesVersion: `v${spec.kubernetes.version}`,
    clusterName: spec.name,
    controlPlaneEndpoint: controlPlaneEndpoint(plan),
    apiServer: { certSANs: apiServerCertSans(plan) },
    ...(plan.etcdNodes.length > 0 ? { etcd: { external: externalEtcd(plan) } } : {}),
    networking: { podSubnet: spec.kubernetes.podCidr, serviceSubnet: spec.kubernetes.serviceCidr, dnsDomain: CLUSTER_DNS_DOMAIN },
  };
  const { failCgroupV1, evictionHard } = spec.kubernetes.kubelet;
  const kubelet: KubeletConfiguration = {
    apiVersion: KUBELET_API_VERSION,
    kind: 'KubeletConfiguration',
    cgroupDriver: 'systemd',
    ...(failCgroupV1 !== undefined ? { failCgroupV1 } : {}),
    ...(evictionHard !== undefined ? { evictionHard: sortedRecord(evictionHard) } : {}),
  };
  const { conntrackMaxPerCore } = spec.kubernetes.kubeProxy;
  if (conntrackMaxPerCore === undefined) return [init, cluster, kubelet];
  const kubeProxy: KubeProxyConfiguration = { apiVersion: KUBE_PROXY_API_VERSION, kind: 'KubeProxyConfiguration', conntrack: { maxPerCore: conntrackMaxPerCore } };
  return [init, cluster, kubelet, kubeProxy];
}

/** The join document of a further control plane or a worker. @throws for the first control plane and load balancers. */
export function kubeadmJoinDocument(plan: ClusterPlan, node: NodePlan, secrets: ClusterSecrets): JoinConfiguration {
  checkNode(plan, node);
  if (isInitNode(node)) {
    throw new Error(`kubeadmJoinDocument: node ${node.hostname} is the first control plane (index 0), which runs kubeadm init; use kubeadmInitDocuments`);
  }
  checkSecrets(secrets);
  const controlPlane = node.role === NodeRole.CONTROL_PLANE;
  return {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'JoinConfiguration',
    nodeRegistration: nodeRegistration(plan, node),
    discovery: {
      bootstrapToken: { apiServerEndpoint: controlPlaneEndpoint(plan), token: secrets.bootstrapToken, caCertHashes: [secrets.caCertHash] },
    },
    ...(controlPlane ? { controlPlane: { localAPIEndpoint: { advertiseAddress: node.ip, bindPort: API_SERVER_PORT }, certificateKey: secrets.certificateKey } } : {}),
    timeouts: kubeadmTimeouts(plan, controlPlane ? KubeadmCommand.JOIN_CONTROL_PLANE : KubeadmCommand.JOIN_WORKER),
  };
}

/** Every document of the node's file, in file order. @throws for a load balancer. */
export function kubeadmDocuments(plan: ClusterPlan, node: NodePlan, secrets: ClusterSecrets): readonly KubeadmDocument[] {
  return isInitNode(node) ? kubeadmInitDocuments(plan, node, secrets) : [kubeadmJoinDocument(plan, node, secrets)];
}

/**
 * The node's kubeadm configuration file: its documents as YAML, separated by `---` lines.
 * @throws for a load-balancer node (it runs no kubeadm), a node not in the plan, or malformed secrets.
 */
export function renderKubeadmConfig(plan: ClusterPlan, node: NodePlan, secrets: ClusterSecrets): string {
  return kubeadmDocuments(plan, node, secrets)
    .map((doc) => YAML.stringify(doc, { lineWidth: 0 }))
    .join('---\n');
}

/**
 * External etcd (spec.etcd.topology external): every member's client URL and the files the
 * control planes' cloud-config writes (etcd-client-step.ts). They live outside /etc/kubernetes/pki,
 * which `kubeadm reset -f` empties between two attempts; kubeadm mounts their directory into the
 * kube-apiserver pod, and `--upload-certs` carries them to joining control planes as well.
 */
export function externalEtcd(plan: ClusterPlan): KubeadmExternalEtcd {
  return { endpoints: etcdClientEndpoints(plan), caFile: ETCD_PATHS.clientCaCert, certFile: ETCD_PATHS.clientCert, keyFile: ETCD_PATHS.clientKey };
}

/** Names the API server's certificate answers to beyond kubeadm's own (node name and address): the load balancer's. */
function apiServerCertSans(plan: ClusterPlan): string[] {
  const { fqdn, hostname, ip } = plan.apiEndpoint;
  return [...new Set([fqdn, hostname, ip])];
}

function nodeRegistration(plan: ClusterPlan, node: NodePlan): KubeadmNodeRegistration {
  const kubeletExtraArgs: KubeadmArg[] = [{ name: 'node-ip', value: node.ip }];
  const labels = Object.keys(node.labels)
    .sort()
    .map((key) => `${key}=${node.labels[key]}`);
  if (labels.length > 0) kubeletExtraArgs.push({ name: 'node-labels', value: labels.join(',') });
  const { ignorePreflightErrors } = plan.spec.kubernetes.kubeadm;
  return {
    name: node.hostname,
    criSocket: CRI_SOCKET,
    // Control planes keep kubeadm's default taint (node-role.kubernetes.io/control-plane:NoSchedule);
    // workers register exactly their pool's taints, none when the pool has none.
    taints:
      node.role === NodeRole.CONTROL_PLANE
        ? undefined
        : node.taints.map((t) => ({ key: t.key, ...(t.value === '' ? {} : { value: t.value }), effect: t.effect })),
    kubeletExtraArgs,
    ...(ignorePreflightErrors.length > 0 ? { ignorePreflightErrors: [...ignorePreflightErrors] } : {}),
  };
}

function checkKubeadmRole(node: NodePlan): void {
  if (node.role !== NodeRole.CONTROL_PLANE && node.role !== NodeRole.WORKER) {
    throw new Error(
      `node.role must be ${NodeRole.CONTROL_PLANE} or ${NodeRole.WORKER} to render a kubeadm config, got ${JSON.stringify(node.role)} (node ${node.hostname}: load balancers run no kubeadm)`,
    );
  }
}

function checkNode(plan: ClusterPlan, node: NodePlan): void {
  checkKubeadmRole(node);
  const planned = plan.nodes.find((n) => n.hostname === node.hostname);
  if (planned === undefined || planned.ip !== node.ip || planned.role !== node.role || planned.index !== node.index) {
    throw new Error(`node must be one of plan.nodes, got ${node.hostname} (${node.role} ${node.index}, ${node.ip}), which cluster ${plan.spec.name} does not plan`);
  }
}

/** Secret formats kubeadm enforces; errors never echo the secret itself. */
const SECRET_FORMATS: ReadonlyArray<readonly [keyof ClusterSecrets, RegExp, string]> = [
  ['bootstrapToken', /^[a-z0-9]{6}\.[a-z0-9]{16}$/, '[a-z0-9]{6}.[a-z0-9]{16}'],
  ['certificateKey', /^[0-9a-fA-F]{64}$/, '64 hex digits (32 bytes)'],
  ['caCertHash', /^sha256:[0-9a-fA-F]{64}$/, 'sha256:<64 hex digits>'],
];

function checkSecrets(secrets: ClusterSecrets): void {
  for (const [field, format, allowed] of SECRET_FORMATS) {
    const value = secrets[field];
    if (typeof value !== 'string' || !format.test(value)) {
      const got = typeof value === 'string' ? `a string of ${value.length} characters (not shown)` : typeof value;
      throw new Error(`secrets.${field} must be ${allowed}, got ${got}`);
    }
  }
}

/** The same record with its keys in sorted order, so the rendered YAML does not depend on the spec's key order. */
function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]]));
}
