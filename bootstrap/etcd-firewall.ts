import { ADDRESS_PLAN, ClusterPlan, MAX_CONTROL_PLANE_NODES, MAX_ETCD_NODES, addressAt, parseIpv4Network } from '../spec';
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT } from './private/etcd-paths';

/** The nftables table the etcd nodes' rules live in (its own: it never touches other rules). */
export const ETCD_FIREWALL_TABLE = 'k8s_lab_etcd';

/** Who may reach an etcd member's ports. */
export interface EtcdFirewallInput {
  /** May reach the client port: IPv4 addresses or ranges `a.b.c.d-a.b.c.e` (control planes, etcd members). */
  readonly clientSources: readonly string[];
  /** May reach the peer port: IPv4 addresses or ranges (the etcd members only). */
  readonly peerSources: readonly string[];
  /** @default ETCD_CLIENT_PORT (2379) */
  readonly clientPort?: number;
  /** @default ETCD_PEER_PORT (2380) */
  readonly peerPort?: number;
}

const IPV4 = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}';
const SOURCE = new RegExp(`^${IPV4}(-${IPV4})?$`);

/**
 * An nftables ruleset (for `nft -f`) for an etcd member: the client port accepts only
 * `clientSources`, the peer port only `peerSources`, loopback is always accepted, and both ports
 * drop everything else (IPv6 included). Nothing else is filtered: the chain's policy is accept, so
 * SSH and the rest of the host are untouched. Re-applying it replaces the table atomically
 * (declare, delete, re-create in one transaction). Pure.
 */
export function etcdFirewallRules(input: EtcdFirewallInput): string[] {
  for (const [field, list] of [['clientSources', input.clientSources], ['peerSources', input.peerSources]] as const) {
    if (list.length === 0) throw new Error(`${field} must list at least one IPv4 address`);
    for (const ip of list) if (!SOURCE.test(ip)) throw new Error(`${field} entries must be IPv4 addresses or ranges a.b.c.d-a.b.c.e, got ${JSON.stringify(ip)}`);
  }
  const clientPort = input.clientPort ?? ETCD_CLIENT_PORT;
  const peerPort = input.peerPort ?? ETCD_PEER_PORT;
  const set = (name: string, ips: readonly string[]) => [`\tset ${name} {`, '\t\ttype ipv4_addr', '\t\tflags interval', `\t\telements = { ${[...new Set(ips)].join(', ')} }`, '\t}'];
  return [
    // No `#!` line: this is loaded with `nft -f` (and is not a shell script).
    '# Written by k8s-lab cloud-init: who may reach this etcd member. Only etcd\'s ports are filtered.',
    `table inet ${ETCD_FIREWALL_TABLE}`,
    `delete table inet ${ETCD_FIREWALL_TABLE}`,
    `table inet ${ETCD_FIREWALL_TABLE} {`,
    ...set('etcd_clients', input.clientSources),
    ...set('etcd_peers', input.peerSources),
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy accept;',
    '\t\tiif "lo" accept',
    `\t\ttcp dport ${clientPort} ip saddr @etcd_clients accept`,
    `\t\ttcp dport ${peerPort} ip saddr @etcd_peers accept`,
    `\t\ttcp dport { ${clientPort}, ${peerPort} } counter drop`,
    '\t}',
    '}',
  ];
}

/**
 * The rules of the plan's etcd members: clients = the control-plane and etcd address ranges, peers =
 * the etcd range (spec/address-plan.ts). Whole ranges, not today's nodes: growing controlPlane.count
 * then leaves every etcd member's user-data, and so its VM, unchanged.
 */
export function etcdFirewallRulesForCluster(plan: ClusterPlan): string[] {
  const network = parseIpv4Network(plan.network.cidr);
  if (!network) throw new Error(`network.cidr must be an IPv4 CIDR, got ${JSON.stringify(plan.network.cidr)}`);
  const range = (first: number, count: number) => `${addressAt(network, first)}-${addressAt(network, first + count - 1)}`;
  const controlPlanes = range(ADDRESS_PLAN.firstControlPlaneOffset, MAX_CONTROL_PLANE_NODES);
  const etcd = range(ADDRESS_PLAN.firstEtcdOffset, MAX_ETCD_NODES);
  return etcdFirewallRules({ clientSources: [controlPlanes, etcd], peerSources: [etcd] });
}
