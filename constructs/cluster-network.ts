import { Construct } from 'constructs';
import * as network from '../.gen/providers/libvirt/network';
import { ClusterPlan, dnsHostsOf } from '../spec';

/** Props of {@link ClusterNetwork}. */
export interface ClusterNetworkProps {
  /** The cluster plan: the network's CIDR and domain, and every node to name in DNS. */
  readonly plan: ClusterPlan;
  /**
   * The libvirt network's name.
   * @default - `<cluster name>-net`
   */
  readonly name?: string;
}

/**
 * The node network: NAT to the host's uplink, DHCP and DNS served by libvirt's dnsmasq.
 *
 * Leases are fixed: every node's MAC→IP pair is known at synth time (spec/address-plan.ts) and
 * each VM's interface declares it, so the provider adds a DHCP host entry for it — no
 * `wait_for_lease`. DNS answers every node's hostname, and `api` for the load balancer.
 */
export class ClusterNetwork extends Construct {
  /** The libvirt network. */
  readonly network: network.Network;
  /** The libvirt network's name. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: ClusterNetworkProps) {
    super(scope, id);
    const { plan } = props;
    this.name = props.name ?? `${plan.spec.name}-net`;

    const hosts = dnsHostsOf(plan);
    this.network = new network.Network(this, 'Network', {
      name: this.name,
      mode: 'nat',
      domain: plan.network.domain,
      addresses: [plan.network.cidr],
      autostart: true,
      dhcp: { enabled: true },
      dns: { enabled: true, localOnly: true, hosts },
    });
  }
}
