/**
 * Where each node lives in the node network, as host offsets from the network address.
 * Every role has its own range, and every worker pool its own block of
 * `network.addressesPerPool` addresses (its `addressBlock`, else its position), so growing one role
 * or pool never moves another node: its MAC, IP and so its VM stay the same.
 *
 *   .1        the libvirt host (gateway, DHCP and DNS server)
 *   .2 – .4   kept free for virtual IPs (keepalived)
 *   .5 – .6   load balancers
 *   .10 – .18 control-plane nodes
 *   .20 – .28 external etcd nodes
 *   .50 –     worker pools, one block of `addressesPerPool` each
 */
export const ADDRESS_PLAN = {
  gatewayOffset: 1,
  virtualIpOffsets: { min: 2, max: 4 },
  firstLoadBalancerOffset: 5,
  firstControlPlaneOffset: 10,
  firstEtcdOffset: 20,
  firstWorkerOffset: 50,
} as const;

/** At most this many control-plane nodes (etcd gains nothing past 7; 9 fit the range). */
export const MAX_CONTROL_PLANE_NODES = 9;
/** At most this many external etcd members (9 fit the range). */
export const MAX_ETCD_NODES = 9;
/** At most this many load balancers (one, or two sharing a virtual IP). */
export const MAX_LOAD_BALANCERS = 2;

/**
 * The MAC of the node at `ip`: QEMU's locally administered prefix 52:54:00, then the last three
 * octets of the IP, so a lease can be read in either direction.
 */
export function macForIp(ip: string): string {
  const octets = ip.split('.').map((o) => Number(o));
  const hex = octets.slice(1).map((o) => o.toString(16).padStart(2, '0').toUpperCase());
  return ['52', '54', '00', ...hex].join(':');
}

/**
 * The node label every worker carries, set to its pool's name: workloads pin to a pool by it.
 * It comes from the same spec the VMs are built from, so both sides always agree.
 */
export const POOL_LABEL_KEY = 'k8s-lab.io/pool';
