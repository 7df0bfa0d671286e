import { ADDRESS_PLAN, POOL_LABEL_KEY, macForIp } from './address-plan';
import { ClusterSpec, EtcdTopology, TaintSpec, addressBlockOf } from './cluster-spec';
import { addressAt, parseIpv4Network } from './ipv4';

/** What a VM is for. */
export enum NodeRole {
  CONTROL_PLANE = 'control-plane',
  WORKER = 'worker',
  LOAD_BALANCER = 'load-balancer',
  ETCD = 'etcd',
}

/** One VM of the cluster, with everything about it known at synth time. */
export interface NodePlan {
  /** What the VM is for. */
  readonly role: NodeRole;
  /** Position within its role (or worker pool), from 0. */
  readonly index: number;
  /** The worker pool, for workers. */
  readonly pool?: string;
  /** Hostname, a DNS-1123 label: `<cluster>-cp-1`, `<cluster>-worker-<pool>-1`, `<cluster>-lb-1`, `<cluster>-etcd-1`. */
  readonly hostname: string;
  /** Fully qualified name in the node network's domain. */
  readonly fqdn: string;
  /** Fixed IPv4 address (a DHCP lease pinned to `mac`). */
  readonly ip: string;
  /** Fixed MAC address, derived from `ip`. */
  readonly mac: string;
  readonly vcpu: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
  /** Node labels the kubelet registers with (workers: the pool's labels). */
  readonly labels: Readonly<Record<string, string>>;
  /** Node taints the kubelet registers with (workers: the pool's taints). */
  readonly taints: readonly TaintSpec[];
}

/** The node network and every node in it, derived from a spec alone. */
export interface ClusterPlan {
  readonly spec: ClusterSpec;
  readonly network: {
    readonly cidr: string;
    /** The libvirt host's address in the network: gateway, DHCP and DNS server. */
    readonly gateway: string;
    readonly prefixLength: number;
    readonly domain: string;
  };
  /** How clients reach the Kubernetes API: the load balancer (or its virtual IP). */
  readonly apiEndpoint: {
    /** Short DNS name served by the node network. */
    readonly hostname: string;
    readonly fqdn: string;
    readonly ip: string;
    readonly port: number;
  };
  readonly loadBalancers: readonly NodePlan[];
  /** External etcd members; none when etcd is stacked on the control planes. */
  readonly etcdNodes: readonly NodePlan[];
  readonly controlPlanes: readonly NodePlan[];
  readonly workers: readonly NodePlan[];
  /** Every node: load balancers, external etcd, control planes, workers. */
  readonly nodes: readonly NodePlan[];
}

/** The API server's port, on the control planes and on the load balancer's frontend. */
export const API_SERVER_PORT = 6443;

/** Lays out every node of a validated spec in the node network (see ADDRESS_PLAN). */
export function planCluster(spec: ClusterSpec): ClusterPlan {
  const network = parseIpv4Network(spec.network.cidr);
  if (!network) throw new Error(`network.cidr must be an IPv4 CIDR, got ${JSON.stringify(spec.network.cidr)}`);
  const domain = spec.network.domain;

  const node = (role: NodeRole, index: number, hostname: string, offset: number, size: { vcpu: number; memoryMiB: number; diskGiB: number }, extra: Partial<NodePlan> = {}): NodePlan => {
    const ip = addressAt(network, offset);
    return {
      role,
      index,
      hostname,
      fqdn: `${hostname}.${domain}`,
      ip,
      mac: macForIp(ip),
      vcpu: size.vcpu,
      memoryMiB: size.memoryMiB,
      diskGiB: size.diskGiB,
      labels: {},
      taints: [],
      ...extra,
    };
  };
  const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

  const loadBalancers = times(spec.loadBalancer.count, (i) =>
    node(NodeRole.LOAD_BALANCER, i, `${spec.name}-lb-${i + 1}`, ADDRESS_PLAN.firstLoadBalancerOffset + i, spec.loadBalancer),
  );
  const etcdCount = spec.etcd.topology === EtcdTopology.EXTERNAL ? spec.etcd.count : 0;
  const etcdNodes = times(etcdCount, (i) =>
    node(NodeRole.ETCD, i, `${spec.name}-etcd-${i + 1}`, ADDRESS_PLAN.firstEtcdOffset + i, spec.etcd),
  );
  const controlPlanes = times(spec.controlPlane.count, (i) =>
    node(NodeRole.CONTROL_PLANE, i, `${spec.name}-cp-${i + 1}`, ADDRESS_PLAN.firstControlPlaneOffset + i, spec.controlPlane),
  );
  const workers = spec.workerPools.flatMap((pool, p) =>
    times(pool.count, (i) =>
      node(NodeRole.WORKER, i, `${spec.name}-worker-${pool.name}-${i + 1}`, ADDRESS_PLAN.firstWorkerOffset + addressBlockOf(pool, p) * spec.network.addressesPerPool + i, pool, {
        pool: pool.name,
        labels: { ...pool.labels, [POOL_LABEL_KEY]: pool.name },
        taints: pool.taints,
      }),
    ),
  );

  const apiHostname = 'api';
  return {
    spec,
    network: { cidr: network.cidr, gateway: addressAt(network, ADDRESS_PLAN.gatewayOffset), prefixLength: network.prefixLength, domain },
    apiEndpoint: {
      hostname: apiHostname,
      fqdn: `${apiHostname}.${domain}`,
      ip: spec.loadBalancer.virtualIp ?? loadBalancers[0].ip,
      port: API_SERVER_PORT,
    },
    loadBalancers,
    etcdNodes,
    controlPlanes,
    workers,
    nodes: [...loadBalancers, ...etcdNodes, ...controlPlanes, ...workers],
  };
}

/** A name the node network's DNS answers (short, and in the network's domain), and its address. */
export interface DnsHost {
  readonly hostname: string;
  readonly ip: string;
}

/**
 * Every name the node network's DNS serves: `api` (the load balancer, or its virtual IP), then each
 * node's hostname. The libvirt network (ClusterNetwork) declares exactly these, and the end-to-end
 * tier's container network serves the same list.
 */
export function dnsHostsOf(plan: ClusterPlan): DnsHost[] {
  return [{ hostname: plan.apiEndpoint.hostname, ip: plan.apiEndpoint.ip }, ...plan.nodes.map((n) => ({ hostname: n.hostname, ip: n.ip }))];
}
