/**
 * Where the external-etcd bootstrap puts things, on the etcd members and on the control planes.
 * One place, so the cloud-config entries, the scripts, the kubeadm config and the tests agree.
 */
export const ETCD_PATHS = {
  /** etcd's configuration file (`etcd --config-file`). */
  config: '/etc/etcd/etcd.conf.yml',
  /** The member's certificates: the etcd CA, its client-facing server pair and its peer pair. */
  pkiDir: '/etc/etcd/pki',
  caCert: '/etc/etcd/pki/ca.crt',
  serverCert: '/etc/etcd/pki/server.crt',
  serverKey: '/etc/etcd/pki/server.key',
  peerCert: '/etc/etcd/pki/peer.crt',
  peerKey: '/etc/etcd/pki/peer.key',
  /** The member's data (mode 0700). */
  dataDir: '/var/lib/etcd',
  /** The etcd and etcdctl binaries, copied out of kubeadm's etcd image. */
  binDir: '/usr/local/bin',
  /** The systemd unit that runs the member. */
  unit: '/etc/systemd/system/etcd.service',
  /** The nftables ruleset limiting who reaches 2379/2380, and the unit that loads it. */
  firewallRules: '/etc/k8s-lab/etcd/firewall.nft',
  firewallUnit: '/etc/systemd/system/k8s-lab-etcd-firewall.service',
  /**
   * On control planes: the etcd CA and the API server's etcd client pair. Deliberately OUTSIDE
   * /etc/kubernetes/pki: `kubeadm reset -f` (run between two failed init/join attempts) empties that
   * directory, but leaves other directories of /etc/kubernetes alone; kubeadm mounts this directory
   * into the kube-apiserver pod itself (controlplane getEtcdCertVolumes).
   */
  clientDir: '/etc/kubernetes/etcd-client',
  clientCaCert: '/etc/kubernetes/etcd-client/ca.crt',
  clientCert: '/etc/kubernetes/etcd-client/apiserver-etcd-client.crt',
  clientKey: '/etc/kubernetes/etcd-client/apiserver-etcd-client.key',
} as const;

/** etcd's client port (kube-apiserver, etcdctl). */
export const ETCD_CLIENT_PORT = 2379;
/** etcd's peer port (members replicating to each other). */
export const ETCD_PEER_PORT = 2380;
