import { ClusterPlan, NodePlan } from '../spec';

/**
 * /etc/hosts of a node, as lines: localhost, then every node of the cluster and the API endpoint,
 * so names resolve before (and without) any DNS, and the node's own name maps to its node-network
 * address rather than 127.0.1.1 (the kubelet registers the address its hostname resolves to).
 */
export function etcHosts(plan: ClusterPlan, node: NodePlan): string[] {
  const api = plan.apiEndpoint;
  return [
    `# Written by k8s-lab cloud-init for ${node.fqdn}: every node of cluster ${plan.spec.name} and its API endpoint.`,
    '127.0.0.1 localhost',
    '::1 localhost ip6-localhost ip6-loopback',
    'ff02::1 ip6-allnodes',
    'ff02::2 ip6-allrouters',
    '',
    `${api.ip} ${api.fqdn} ${api.hostname}`,
    ...plan.nodes.map((n) => `${n.ip} ${n.fqdn} ${n.hostname}`),
  ];
}
