import { ClusterPlan, NodePlan } from '../spec';

/**
 * /etc/hosts of a node, as lines: localhost, the API endpoint and the node itself, so the node's own
 * name maps to its node-network address rather than 127.0.1.1 (the kubelet registers the address
 * its hostname resolves to) and the endpoint resolves even before DNS answers. The other nodes
 * are left to the node network's DNS on purpose: listing them here would change every node's
 * user-data, and so replace every VM, whenever a worker is added.
 */
export function etcHosts(plan: ClusterPlan, node: NodePlan): string[] {
  const api = plan.apiEndpoint;
  return [
    `# Written by k8s-lab cloud-init for ${node.fqdn} (cluster ${plan.spec.name}); other nodes resolve through the network's DNS.`,
    '127.0.0.1 localhost',
    '::1 localhost ip6-localhost ip6-loopback',
    'ff02::1 ip6-allnodes',
    'ff02::2 ip6-allrouters',
    '',
    `${api.ip} ${api.fqdn} ${api.hostname}`,
    `${node.ip} ${node.fqdn} ${node.hostname}`,
  ];
}
