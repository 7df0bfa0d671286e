import * as YAML from 'yaml';
import { ClusterPlan, NodePlan } from '../spec';
import { ClusterSecrets } from './secrets';

/**
 * Every file the bootstrap renders for one node, by file name. `user-data` and `meta-data` go
 * into the node's cloud-init disk; the others are copies of files inside user-data, written out
 * by `npm run render` so a person can read them.
 */
export type NodeFiles = Readonly<Record<string, string>>;

/**
 * Renders the files of one node. Pure: the same plan, node and secrets give the same bytes.
 * (Thin first version: identity, hostname and SSH keys; the bootstrap issue fills it.)
 */
export function renderNodeFiles(plan: ClusterPlan, node: NodePlan, _secrets: ClusterSecrets): NodeFiles {
  const cloudConfig = {
    hostname: node.hostname,
    fqdn: node.fqdn,
    prefer_fqdn_over_hostname: false,
    manage_etc_hosts: true,
    ssh_pwauth: false,
    disable_root: true,
    users: [
      {
        name: 'ubuntu',
        groups: ['sudo'],
        shell: '/bin/bash',
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        lock_passwd: true,
        ssh_authorized_keys: [...plan.spec.ssh.authorizedKeys],
      },
    ],
    write_files: [
      {
        path: '/etc/k8s-lab/node.json',
        permissions: '0644',
        content: JSON.stringify({ cluster: plan.spec.name, role: node.role, pool: node.pool, index: node.index, ip: node.ip, labels: node.labels, taints: node.taints }, null, 2) + '\n',
      },
    ],
  };
  return {
    'user-data': '#cloud-config\n' + YAML.stringify(cloudConfig, { lineWidth: 0 }),
    'meta-data': YAML.stringify({ 'instance-id': `${plan.spec.name}-${node.hostname}`, 'local-hostname': node.hostname }, { lineWidth: 0 }),
  };
}
