/**
 * The specs the end-to-end tier builds clusters from. Each option beyond the topology is one the
 * container nodes need and a VM would not (README, "The end-to-end tier"): the harness never edits
 * rendered user-data, so what differs is said here, in the spec.
 */

/** The spec under test: the default topology, from the node image, with the container-node options. */
export const HA_SPEC = {
  name: 'k8s-lab-e2e',
  image: { prebaked: true },
  kubernetes: {
    cni: 'flannel',
    // cgroup v1 here: kubelet 1.36 refuses it unless told, and kubeadm's SystemVerification errors on it.
    kubelet: {
      failCgroupV1: false,
      // The nodes share the host's file system: its fill level must not taint them disk-pressure.
      evictionHard: { 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%', 'imagefs.inodesFree': '0%' },
    },
    kubeadm: { ignorePreflightErrors: ['SystemVerification'] },
    // kube-proxy cannot raise the host-wide nf_conntrack_max from a container (/proc/sys is read-only).
    kubeProxy: { conntrackMaxPerCore: 0 },
  },
  // Without CAP_SYS_RESOURCE no process may lower its oom_score_adj.
  containerd: { restrictOomScoreAdj: true },
  workerPools: [
    { name: 'general', count: 1, labels: { 'k8s-lab.io/disk': 'ssd' } },
    { name: 'edge', count: 1, labels: { 'k8s-lab.io/zone': 'edge' }, taints: [{ key: 'k8s-lab.io/dedicated', value: 'edge', effect: 'NoSchedule' }] },
  ],
};

/** The other topology: 3 external etcd members, two load balancers sharing a virtual IP (keepalived). */
export const EXTERNAL_ETCD_VIP_SPEC = {
  ...HA_SPEC,
  name: 'k8s-lab-vip',
  network: { cidr: '192.168.151.0/24' },
  etcd: { topology: 'external', count: 3 },
  loadBalancer: { count: 2, virtualIp: '192.168.151.2' },
};
