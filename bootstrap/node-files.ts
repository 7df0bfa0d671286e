import { createHash } from 'crypto';
import * as YAML from 'yaml';
import { ClusterPlan, NodePlan, NodeRole } from '../spec';
import { bootstrapRunner } from './bootstrap-runner';
import { CloudConfig, CloudConfigFile, renderCloudConfig } from './cloud-config';
import { aptFiles } from './apt-config';
import { etcHosts } from './etc-hosts';
import { etcdClientStep } from './etcd-client-step';
import { etcdMemberConfigInputOf, renderEtcdMemberConfig } from './etcd-member-config';
import { etcdMemberStep } from './etcd-member-step';
import { haproxyConfigForCluster } from './haproxy-config';
import { initControlPlaneStep } from './init-control-plane-step';
import { joinNodeStep } from './join-node-step';
import { renderKeepalivedConfig } from './keepalived-config';
import { keepalivedStep } from './keepalived-step';
import { renderKubeadmConfig } from './kubeadm-config';
import { loadBalancerStep } from './load-balancer-step';
import { prepareNodeStep } from './prepare-node-step';
import { BootstrapStep, fileOf } from './private/bootstrap-step';
import { stepScriptPath, VM_PATHS } from './private/vm-paths';
import { ClusterSecrets } from './secrets';

/**
 * Every file the bootstrap renders for one node, by file name. `user-data` and `meta-data` go
 * into the node's cloud-init disk; the others are copies of files inside user-data, written out
 * by `npm run render` so a person can read them: `haproxy.cfg` (load balancers; with two, also
 * `keepalived.conf`), `kubeadm.yaml`
 * (control planes and workers) or `etcd.conf.yml` (external etcd members).
 */
export type NodeFiles = Readonly<Record<string, string>>;

/** The bootstrap steps of a node, in the order its runner runs them. */
export function bootstrapStepsOf(plan: ClusterPlan, node: NodePlan, secrets: ClusterSecrets): BootstrapStep[] {
  switch (node.role) {
    case NodeRole.LOAD_BALANCER:
      // Two load balancers share the API's virtual IP through keepalived; one needs none.
      return plan.loadBalancers.length === 2 ? [loadBalancerStep(plan), keepalivedStep(plan, node)] : [loadBalancerStep(plan)];
    case NodeRole.CONTROL_PLANE: {
      // External etcd: the etcd client files, and a bounded wait for etcd's quorum, before kubeadm.
      const etcd = plan.etcdNodes.length > 0 ? [etcdClientStep(plan, secrets)] : [];
      return node.index === 0 ? [prepareNodeStep(plan), ...etcd, initControlPlaneStep(plan, node, secrets)] : [prepareNodeStep(plan), ...etcd, joinNodeStep(plan, node)];
    }
    case NodeRole.WORKER:
      return [prepareNodeStep(plan), joinNodeStep(plan, node)];
    case NodeRole.ETCD:
      return [etcdMemberStep(plan, node, secrets)];
  }
}

/**
 * Renders the files of one node. Pure: the same plan, node and secrets give the same bytes.
 * user-data: identity (hostname, /etc/hosts, a one-line node marker), the `ubuntu` user with
 * spec.ssh.authorizedKeys, then the role's bootstrap steps run once by `runcmd`.
 */
export function renderNodeFiles(plan: ClusterPlan, node: NodePlan, secrets: ClusterSecrets): NodeFiles {
  const planned = plan.nodes.find((n) => n.hostname === node.hostname);
  if (planned === undefined || planned.ip !== node.ip || planned.role !== node.role || planned.index !== node.index) {
    throw new Error(`node ${node.hostname} is not a node of this plan (cluster ${plan.spec.name} plans ${plan.nodes.map((n) => n.hostname).join(', ')})`);
  }
  const steps = bootstrapStepsOf(plan, node, secrets);
  const isKubernetesNode = node.role === NodeRole.CONTROL_PLANE || node.role === NodeRole.WORKER;
  const kubeadmYaml = isKubernetesNode ? renderKubeadmConfig(plan, node, secrets) : undefined;

  const marker = { cluster: plan.spec.name, hostname: node.hostname, role: node.role, pool: node.pool, index: node.index, ip: node.ip, labels: node.labels, taints: node.taints };
  const writeFiles: CloudConfigFile[] = [
    fileOf('/etc/hosts', etcHosts(plan, node), '0644'),
    { path: VM_PATHS.nodeMarker, content: JSON.stringify(marker) + '\n', permissions: '0644' },
    // A node that installs from the network waits for apt's locks and retries (image.prebaked installs nothing).
    ...(plan.spec.image.prebaked ? [] : aptFiles()),
    ...(kubeadmYaml !== undefined ? [{ path: VM_PATHS.kubeadmConfig, content: kubeadmYaml, permissions: '0600' }] : []),
    ...steps.flatMap((s) => s.files),
    ...steps.map((s) => ({ path: stepScriptPath(s.name), content: s.script, permissions: '0755' })),
    { path: VM_PATHS.runner, content: bootstrapRunner(steps.map((s) => s.name)), permissions: '0755' },
  ];

  const cloudConfig: CloudConfig = {
    hostname: node.hostname,
    fqdn: node.fqdn,
    prefer_fqdn_over_hostname: false,
    manage_etc_hosts: false,
    users: [
      {
        name: 'ubuntu',
        groups: ['sudo'],
        shell: '/bin/bash',
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        lock_passwd: true,
        ...(plan.spec.ssh.authorizedKeys.length > 0 ? { ssh_authorized_keys: [...plan.spec.ssh.authorizedKeys] } : {}),
      },
    ],
    ssh_pwauth: false,
    disable_root: true,
    // The node image (image.prebaked) installs nothing: no apt-get update from the network at boot either.
    package_update: !plan.spec.image.prebaked,
    package_upgrade: false,
    write_files: writeFiles,
    runcmd: [[VM_PATHS.runner]],
  };

  const userData = renderCloudConfig(cloudConfig);
  return {
    'user-data': userData,
    'meta-data': YAML.stringify({ 'instance-id': instanceIdOf(plan, node, userData), 'local-hostname': node.hostname }, { lineWidth: 0 }),
    ...(kubeadmYaml !== undefined ? { 'kubeadm.yaml': kubeadmYaml } : {}),
    ...(node.role === NodeRole.LOAD_BALANCER ? { 'haproxy.cfg': haproxyConfigForCluster(plan) } : {}),
    ...(node.role === NodeRole.ETCD ? { 'etcd.conf.yml': renderEtcdMemberConfig(etcdMemberConfigInputOf(plan, node)) } : {}),
    ...(node.role === NodeRole.LOAD_BALANCER && plan.loadBalancers.length === 2 ? { 'keepalived.conf': renderKeepalivedConfig(plan, node) } : {}),
  };
}

/**
 * The node's NoCloud `instance-id`. cloud-init runs the bootstrap once per instance: a VM replaced over its old root
 * disk with the same id keeps what it did the first time. A Kubernetes or etcd node keeps `<cluster>-<hostname>`,
 * since running kubeadm or etcd's bootstrap again over a live member is not safe. A load balancer's id also carries
 * a hash of its user-data, so a change to it (more control planes for HAProxy, a new SSH key) is a new instance and
 * its bootstrap, HAProxy and keepalived only, runs again.
 */
export function instanceIdOf(plan: ClusterPlan, node: NodePlan, userData: string): string {
  const id = `${plan.spec.name}-${node.hostname}`;
  if (node.role !== NodeRole.LOAD_BALANCER) return id;
  return `${id}-${createHash('sha256').update(userData).digest('hex').slice(0, 12)}`;
}
