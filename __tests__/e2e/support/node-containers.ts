import * as fs from 'fs';
import * as path from 'path';
import { NodePlan, ClusterPlan, dnsHostsOf } from '../../../spec';
import { DockerInNetns, ensureDir } from './docker-in-netns';

/**
 * What a node container needs that a VM would not, all owned by the harness (README, "The
 * end-to-end tier"): mounted read-only at HARNESS_DIR inside every node, never into user-data.
 *  - entrypoint.sh: makes the container's own cgroup folders writable for its systemd (docker mounts
 *    them read-only, already rooted at the container's cgroup; the host's cgroup root is never
 *    mounted in), binds the three sysctl files below, then execs systemd as PID 1;
 *  - resolv.conf (mounted at /etc/resolv.conf): the network's DNS on the gateway, as a VM gets it;
 *  - sysctl/: the values the kubelet wants for kernel.panic, kernel.panic_on_oops and
 *    vm.overcommit_memory. /proc/sys is read-only in the container and those keys are host-wide, so
 *    the kubelet (which writes only a value that differs) finds them already set and never touches
 *    the host's.
 */
export const HARNESS_DIR = '/k8s-lab-harness';

const KUBELET_SYSCTLS: Readonly<Record<string, string>> = {
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
  'vm/overcommit_memory': '1',
};

/**
 * Network sysctls set per container at creation (they belong to the container's own network
 * namespace, so this changes nothing on the host): what the node's prepare-node step and
 * kube-proxy would set, already set, because /proc/sys is read-only inside the container.
 */
export const NODE_NETWORK_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
  'net.ipv4.conf.all.route_localnet': '1',
  'net.netfilter.nf_conntrack_tcp_timeout_established': '86400',
  'net.netfilter.nf_conntrack_tcp_timeout_close_wait': '3600',
};

function entrypointScript(): string {
  return [
    'set -eu',
    'mount -o remount,rw /sys/fs/cgroup',
    'for d in /sys/fs/cgroup/*; do [ -L "$d" ] || mount -o remount,bind,rw "$d"; done',
    ...Object.keys(KUBELET_SYSCTLS).map((key) => `mount --bind ${HARNESS_DIR}/sysctl/${key.replace('/', '.')} /proc/sys/${key}`),
    'exec /sbin/init',
    '',
  ].join('\n');
}

/**
 * The node's /etc/resolv.conf, as libvirt's DHCP would give a VM: the network's dnsmasq on the
 * gateway, and the cluster's domain to search. (Docker's own would name its embedded resolver at
 * 127.0.0.11, which a pod cannot reach: CoreDNS forwarding there finds itself and stops, "loop".)
 */
export function resolvConf(plan: ClusterPlan): string {
  return `# k8s-lab end-to-end tier: the node network's DNS, as libvirt's DHCP would set it\nnameserver ${plan.network.gateway}\nsearch ${plan.network.domain}\n`;
}

/** Writes the harness folder (entrypoint, sysctl files, resolv.conf) under `workDir`; returns its path. */
export function writeHarnessDir(workDir: string, plan: ClusterPlan): string {
  const dir = ensureDir(path.join(workDir, 'harness'));
  fs.writeFileSync(path.join(dir, 'resolv.conf'), resolvConf(plan), { mode: 0o644 });
  fs.writeFileSync(path.join(dir, 'entrypoint.sh'), entrypointScript(), { mode: 0o755 });
  ensureDir(path.join(dir, 'sysctl'));
  for (const [key, value] of Object.entries(KUBELET_SYSCTLS)) fs.writeFileSync(path.join(dir, 'sysctl', key.replace('/', '.')), `${value}\n`, { mode: 0o644 });
  return dir;
}

/** Writes a node's rendered `user-data` and `meta-data`, untouched, as its NoCloud seed folder. */
export function writeSeedDir(workDir: string, node: NodePlan, files: Readonly<Record<string, string>>): string {
  const dir = ensureDir(path.join(workDir, 'seeds', node.hostname));
  for (const name of ['user-data', 'meta-data']) {
    const content = files[name];
    if (content === undefined) throw new Error(`node ${node.hostname} has no rendered ${name}`);
    fs.writeFileSync(path.join(dir, name), content, { mode: 0o600 });
  }
  return dir;
}

/** The docker network of a plan: the spec's own CIDR and gateway, inside the lab's namespace. */
export async function createClusterNetwork(lab: DockerInNetns, plan: ClusterPlan): Promise<string> {
  const name = `${plan.spec.name}-net`;
  await lab.mustDocker(['network', 'create', '--driver=bridge', `--subnet=${plan.network.cidr}`, `--gateway=${plan.network.gateway}`, `--opt=com.docker.network.bridge.name=${bridgeName(plan)}`, name]);
  return name;
}

/** The Linux bridge of the cluster's docker network (≤ 15 characters). */
export function bridgeName(plan: ClusterPlan): string {
  return `br-${plan.spec.name}`.slice(0, 15);
}

/**
 * dnsmasq on the network's gateway address, answering exactly what the libvirt network would:
 * every node's hostname and `api`, short and in the cluster's domain, from the same list
 * ClusterNetwork declares (dnsHostsOf).
 */
export function dnsmasqArgs(plan: ClusterPlan, pidFile: string): string[] {
  const domain = plan.network.domain;
  return [
    '--keep-in-foreground',
    '--log-facility=-',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--bind-interfaces',
    `--listen-address=${plan.network.gateway}`,
    `--pid-file=${pidFile}`,
    `--local=/${domain}/`,
    `--domain=${domain}`,
    ...dnsHostsOf(plan).map((h) => `--host-record=${h.hostname},${h.hostname}.${domain},${h.ip}`),
  ];
}

/** Starts one node container: systemd as PID 1, the node's seed, its planned hostname and IP. */
export async function startNodeContainer(lab: DockerInNetns, node: NodePlan, opts: { image: string; network: string; seedDir: string; harnessDir: string }): Promise<void> {
  const volume = `${node.hostname}-containerd`;
  await lab.mustDocker(['volume', 'create', volume]);
  await lab.mustDocker([
    'run',
    '--detach',
    `--name=${node.hostname}`,
    `--hostname=${node.hostname}`,
    `--network=${opts.network}`,
    `--ip=${node.ip}`,
    // What systemd and the kubelet need in a container (kind's node containers run privileged,
    // which this sandbox refuses: it lacks CAP_SYS_RESOURCE).
    '--cap-add=ALL',
    '--cap-drop=SYS_RESOURCE',
    '--security-opt=seccomp=unconfined',
    '--security-opt=apparmor=unconfined',
    '--cgroupns=private',
    // The node's own containers include privileged ones (kube-proxy): their devices cgroup asks for
    // every device, which a child cgroup may only get if the node's allows it.
    '--device-cgroup-rule=a *:* rwm',
    '--device=/dev/kmsg',
    '--tmpfs=/run',
    '--tmpfs=/run/lock',
    '--tmpfs=/tmp',
    '--stop-signal=SIGRTMIN+3',
    '--env=container=docker',
    ...Object.entries(NODE_NETWORK_SYSCTLS).map(([k, v]) => `--sysctl=${k}=${v}`),
    // containerd's snapshots cannot be overlay on the container's own overlay root.
    `--volume=${volume}:/var/lib/containerd`,
    `--volume=${opts.seedDir}:/var/lib/cloud/seed/nocloud:ro`,
    `--volume=${opts.harnessDir}:${HARNESS_DIR}:ro`,
    `--volume=${opts.harnessDir}/resolv.conf:/etc/resolv.conf:ro`,
    '--entrypoint=/bin/sh',
    opts.image,
    `${HARNESS_DIR}/entrypoint.sh`,
  ]);
}
