import * as YAML from 'yaml';
import { ClusterPlan, NodePlan, NodeRole } from '../spec';
import { ETCD_CLIENT_PORT, ETCD_PATHS, ETCD_PEER_PORT } from './private/etcd-paths';

/** Where a member's TLS files are. */
export interface EtcdMemberPki {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly peerCert: string;
  readonly peerKey: string;
}

/** One member of the initial cluster. */
export interface EtcdInitialMember {
  /** The member's name (its hostname). */
  readonly name: string;
  /** Address its peers reach it at. */
  readonly ip: string;
}

/** Everything one member's etcd configuration is made of. */
export interface EtcdMemberConfigInput {
  /** The member's name: its hostname, as in `initialCluster`. */
  readonly name: string;
  /** The address the member listens on and advertises, for clients and peers. */
  readonly ip: string;
  /** @default ETCD_CLIENT_PORT (2379) */
  readonly clientPort?: number;
  /** @default ETCD_PEER_PORT (2380) */
  readonly peerPort?: number;
  /** Where etcdctl on the member reaches it: also listen on https://127.0.0.1:<clientPort>. @default true */
  readonly listenOnLoopback?: boolean;
  /** Every member of the cluster at its creation, this one included. */
  readonly initialCluster: readonly EtcdInitialMember[];
  /** Names the cluster so members of another cluster can never join it by mistake. */
  readonly initialClusterToken: string;
  /** @default ETCD_PATHS.dataDir */
  readonly dataDir?: string;
  /** @default - ETCD_PATHS (the files the member's cloud-config writes) */
  readonly pki?: EtcdMemberPki;
  /** Where /metrics and /health answer over plain HTTP, loopback only. @default http://127.0.0.1:2381 */
  readonly metricsUrl?: string;
}

/** TLS settings of one of etcd's listeners, as etcd's config file names them. */
export interface EtcdTransportSecurity {
  readonly 'cert-file': string;
  readonly 'key-file': string;
  readonly 'trusted-ca-file': string;
  readonly 'client-cert-auth': boolean;
  readonly 'auto-tls': boolean;
}

/**
 * etcd's configuration file (`etcd --config-file`), the keys of go.etcd.io/etcd/server embed.Config
 * that both etcd 3.4 (the Debian package the live test runs) and 3.6/3.7 (what the VMs run) read.
 */
export interface EtcdConfigFile {
  readonly name: string;
  readonly 'data-dir': string;
  readonly 'listen-client-urls': string;
  readonly 'advertise-client-urls': string;
  readonly 'listen-peer-urls': string;
  readonly 'initial-advertise-peer-urls': string;
  readonly 'listen-metrics-urls': string;
  readonly 'initial-cluster': string;
  readonly 'initial-cluster-token': string;
  readonly 'initial-cluster-state': 'new';
  readonly 'client-transport-security': EtcdTransportSecurity;
  readonly 'peer-transport-security': EtcdTransportSecurity;
  readonly logger: 'zap';
  readonly 'log-level': 'info';
}

const DEFAULT_PKI: EtcdMemberPki = {
  caCert: ETCD_PATHS.caCert,
  serverCert: ETCD_PATHS.serverCert,
  serverKey: ETCD_PATHS.serverKey,
  peerCert: ETCD_PATHS.peerCert,
  peerKey: ETCD_PATHS.peerKey,
};

function checkPort(field: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${field} must be a TCP port 1-65535, got ${port}`);
  return port;
}

/**
 * One member's etcd configuration: TLS on both listeners with client certificates required
 * (client-cert-auth) and trusted only when signed by the etcd CA; clients on https://<ip>:2379 (and
 * loopback), peers on https://<ip>:2380; the initial cluster of every member by name and peer URL.
 * Pure. @throws when the member is not in initialCluster, or names or ports are malformed.
 */
export function etcdMemberConfigFile(input: EtcdMemberConfigInput): EtcdConfigFile {
  const clientPort = checkPort('clientPort', input.clientPort ?? ETCD_CLIENT_PORT);
  const peerPort = checkPort('peerPort', input.peerPort ?? ETCD_PEER_PORT);
  if (clientPort === peerPort) throw new Error(`clientPort and peerPort must differ, both are ${clientPort}`);
  const names = input.initialCluster.map((m) => m.name);
  for (const name of names) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new Error(`initialCluster member names must be DNS-1123 labels, got ${JSON.stringify(name)}`);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new Error(`initialCluster names ${duplicate} twice; member names must be unique`);
  if (!names.includes(input.name)) throw new Error(`name must be one of initialCluster (${names.join(', ')}), got ${JSON.stringify(input.name)}`);
  const pki = input.pki ?? DEFAULT_PKI;
  const clientUrl = `https://${input.ip}:${clientPort}`;
  const loopbackUrl = `https://127.0.0.1:${clientPort}`;
  const listenClient = input.listenOnLoopback === false || input.ip === '127.0.0.1' ? [clientUrl] : [clientUrl, loopbackUrl];
  const peerUrl = `https://${input.ip}:${peerPort}`;
  const tls = (cert: string, key: string): EtcdTransportSecurity => ({ 'cert-file': cert, 'key-file': key, 'trusted-ca-file': pki.caCert, 'client-cert-auth': true, 'auto-tls': false });
  return {
    name: input.name,
    'data-dir': input.dataDir ?? ETCD_PATHS.dataDir,
    'listen-client-urls': listenClient.join(','),
    'advertise-client-urls': clientUrl,
    'listen-peer-urls': peerUrl,
    'initial-advertise-peer-urls': peerUrl,
    'listen-metrics-urls': input.metricsUrl ?? 'http://127.0.0.1:2381',
    'initial-cluster': input.initialCluster.map((m) => `${m.name}=https://${m.ip}:${peerPort}`).join(','),
    'initial-cluster-token': input.initialClusterToken,
    'initial-cluster-state': 'new',
    'client-transport-security': tls(pki.serverCert, pki.serverKey),
    'peer-transport-security': tls(pki.peerCert, pki.peerKey),
    logger: 'zap',
    'log-level': 'info',
  };
}

/** The configuration file's text. */
export function renderEtcdMemberConfig(input: EtcdMemberConfigInput): string {
  return YAML.stringify(etcdMemberConfigFile(input), { lineWidth: 0 });
}

/** The initial-cluster token of a cluster's external etcd. */
export function etcdClusterToken(plan: ClusterPlan): string {
  return `${plan.spec.name}-etcd`;
}

/** The configuration input of an etcd node of the plan. @throws for a node that is not one of plan.etcdNodes. */
export function etcdMemberConfigInputOf(plan: ClusterPlan, node: NodePlan): EtcdMemberConfigInput {
  if (node.role !== NodeRole.ETCD || !plan.etcdNodes.some((n) => n.hostname === node.hostname && n.ip === node.ip)) {
    throw new Error(`node must be one of plan.etcdNodes (${plan.etcdNodes.map((n) => n.hostname).join(', ') || 'none: etcd.topology is stacked'}), got ${node.hostname} (${node.role})`);
  }
  return {
    name: node.hostname,
    ip: node.ip,
    initialCluster: plan.etcdNodes.map((n) => ({ name: n.hostname, ip: n.ip })),
    initialClusterToken: etcdClusterToken(plan),
  };
}

/** The client URLs of every external etcd member: what the kube-apiservers connect to. */
export function etcdClientEndpoints(plan: ClusterPlan): string[] {
  return plan.etcdNodes.map((n) => `https://${n.ip}:${ETCD_CLIENT_PORT}`);
}
