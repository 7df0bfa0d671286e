/**
 * The subset of kubeadm's configuration API (kubeadm.k8s.io/v1beta4) and of the kubelet's
 * (kubelet.config.k8s.io/v1beta1) that the bootstrap renders, as plain typed data. Field names and
 * shapes are the API's JSON names; a field left undefined is left out of the YAML, so kubeadm
 * applies its own default. kubeadm decodes strictly: a misspelt field here would fail
 * `kubeadm config validate` (the tools tier checks every rendered role).
 */

/** The kubeadm configuration API version every document uses (v1beta3 was removed in 1.36). */
export const KUBEADM_API_VERSION = 'kubeadm.k8s.io/v1beta4';
/** The kubelet configuration API version. */
export const KUBELET_API_VERSION = 'kubelet.config.k8s.io/v1beta1';
/** The kube-proxy configuration API version. */
export const KUBE_PROXY_API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';

/** A Go duration as metav1.Duration reads it, e.g. `24h0m0s`. */
export type GoDuration = string;

/** One command-line argument of a component: v1beta4 lists them, it no longer maps them. */
export interface KubeadmArg {
  readonly name: string;
  readonly value: string;
}

/** An address and port a kube-apiserver listens on. */
export interface KubeadmApiEndpoint {
  readonly advertiseAddress: string;
  readonly bindPort: number;
}

/** A node taint, as core/v1 Taint. */
export interface KubeadmTaint {
  readonly key: string;
  /** Left out when empty. */
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** How the node registers with the cluster. */
export interface KubeadmNodeRegistration {
  /** The Node object's name. */
  readonly name: string;
  /** The CRI endpoint kubeadm and the kubelet talk to. */
  readonly criSocket: string;
  /**
   * Taints the node registers with. Undefined: kubeadm's default (control planes get
   * `node-role.kubernetes.io/control-plane:NoSchedule`, workers none); `[]`: none at all.
   */
  readonly taints?: readonly KubeadmTaint[];
  /** Extra kubelet flags, written by kubeadm to /var/lib/kubelet/kubeadm-flags.env. */
  readonly kubeletExtraArgs?: readonly KubeadmArg[];
  /** Preflight checks whose errors kubeadm only warns about (check names, case-insensitive). Left out: none. */
  readonly ignorePreflightErrors?: readonly string[];
}

/** Per-operation timeouts (v1beta4 `timeouts`); unset ones take kubeadm's defaults. */
export interface KubeadmTimeouts {
  /** How long init/join waits for the static control-plane pods to be healthy. kubeadm: 4m. */
  readonly controlPlaneComponentHealthCheck?: GoDuration;
  /** How long init/join waits for the kubelet to be healthy. kubeadm: 4m. */
  readonly kubeletHealthCheck?: GoDuration;
  /** How long kubeadm's client waits for one request to the API server. kubeadm: 1m. */
  readonly kubernetesAPICall?: GoDuration;
  /** How long kubeadm's etcd client waits for one request to etcd. kubeadm: 2m. */
  readonly etcdAPICall?: GoDuration;
  /** How long join waits for the kubelet's TLS bootstrap. kubeadm: 5m. */
  readonly tlsBootstrap?: GoDuration;
  /** How long join keeps retrying discovery (cluster-info through the API endpoint). kubeadm: 5m. */
  readonly discovery?: GoDuration;
}

/** A bootstrap token kubeadm init creates in the cluster. */
export interface KubeadmBootstrapToken {
  /** `[a-z0-9]{6}.[a-z0-9]{16}`. */
  readonly token: string;
  readonly description?: string;
  /** Lifetime from creation. */
  readonly ttl: GoDuration;
  readonly usages: readonly string[];
  readonly groups: readonly string[];
}

/** Node-specific settings of `kubeadm init`. */
export interface InitConfiguration {
  readonly apiVersion: typeof KUBEADM_API_VERSION;
  readonly kind: 'InitConfiguration';
  readonly bootstrapTokens: readonly KubeadmBootstrapToken[];
  readonly nodeRegistration: KubeadmNodeRegistration;
  readonly localAPIEndpoint: KubeadmApiEndpoint;
  /** Encrypts the control-plane certificates `--upload-certs` stores in the kubeadm-certs Secret. */
  readonly certificateKey: string;
  readonly timeouts?: KubeadmTimeouts;
}

/** Cluster-wide settings, stored by init in the kubeadm-config ConfigMap. */
export interface ClusterConfiguration {
  readonly apiVersion: typeof KUBEADM_API_VERSION;
  readonly kind: 'ClusterConfiguration';
  /** `v1.MINOR.PATCH`. */
  readonly kubernetesVersion: string;
  readonly clusterName: string;
  /** `host:port` every node and client uses for the API: the load balancer. */
  readonly controlPlaneEndpoint: string;
  readonly apiServer: {
    /** Extra subject alternative names of the API server's serving certificate. */
    readonly certSANs: readonly string[];
  };
  /** Where etcd runs. Left out: kubeadm's default, a stacked (local) member on every control plane. */
  readonly etcd?: {
    readonly external: KubeadmExternalEtcd;
  };
  readonly networking: {
    readonly podSubnet: string;
    readonly serviceSubnet: string;
    readonly dnsDomain: string;
  };
}

/** An etcd cluster kubeadm does not run (v1beta4 ExternalEtcd). */
export interface KubeadmExternalEtcd {
  /** Client URLs of every member, e.g. `https://192.168.150.20:2379`. */
  readonly endpoints: readonly string[];
  /** The etcd CA certificate, on every control plane. */
  readonly caFile: string;
  /** The kube-apiserver's etcd client certificate and key. */
  readonly certFile: string;
  readonly keyFile: string;
}

/** The kubelet's configuration, which init uploads for every node to use. */
export interface KubeletConfiguration {
  readonly apiVersion: typeof KUBELET_API_VERSION;
  readonly kind: 'KubeletConfiguration';
  readonly cgroupDriver: 'systemd' | 'cgroupfs';
  /** false: the kubelet runs on a cgroup v1 host. Left out: the kubelet's default, true (it refuses cgroup v1). */
  readonly failCgroupV1?: boolean;
  /** Eviction signal → hard threshold. Left out: the kubelet's own thresholds. */
  readonly evictionHard?: Readonly<Record<string, string>>;
}

/** kube-proxy's configuration, which init uploads for every node's kube-proxy (kube-system/kube-proxy ConfigMap). */
export interface KubeProxyConfiguration {
  readonly apiVersion: typeof KUBE_PROXY_API_VERSION;
  readonly kind: 'KubeProxyConfiguration';
  readonly conntrack: {
    /** Conntrack entries per CPU core kube-proxy sets nf_conntrack_max to; 0 leaves nf_conntrack_max alone. */
    readonly maxPerCore: number;
  };
}

/** How a joining node finds and trusts the cluster. */
export interface KubeadmBootstrapTokenDiscovery {
  /** `host:port` of the API, where the cluster-info ConfigMap is read. */
  readonly apiServerEndpoint: string;
  readonly token: string;
  /** `sha256:<hex>` pins of the cluster CA's public key. */
  readonly caCertHashes: readonly string[];
}

/** Settings of `kubeadm join`, for a worker or (with `controlPlane`) a further control plane. */
export interface JoinConfiguration {
  readonly apiVersion: typeof KUBEADM_API_VERSION;
  readonly kind: 'JoinConfiguration';
  readonly nodeRegistration: KubeadmNodeRegistration;
  readonly discovery: {
    readonly bootstrapToken: KubeadmBootstrapTokenDiscovery;
  };
  /** Present for control-plane joins only. */
  readonly controlPlane?: {
    readonly localAPIEndpoint: KubeadmApiEndpoint;
    /** Decrypts the certificates the first control plane uploaded. */
    readonly certificateKey: string;
  };
  readonly timeouts?: KubeadmTimeouts;
}

/** Any document the bootstrap renders into a kubeadm config file. */
export type KubeadmDocument = InitConfiguration | ClusterConfiguration | KubeletConfiguration | KubeProxyConfiguration | JoinConfiguration;
