import { Construct } from 'constructs';
import { cloudinitDisk, domain, volume } from '../.gen/providers/libvirt';
import { DomainType, NodePlan } from '../spec';
import { NO_GRAPHICS_XSLT } from './private/no-graphics';
import { terraformLiteral } from './private/terraform-literal';

/** Props of {@link NodeVm}. */
export interface NodeVmProps {
  /** The node: hostname, fixed MAC/IP, vCPU, memory and disk size. */
  readonly node: NodePlan;
  /** The storage pool that holds the node's disk and cloud-init ISO. */
  readonly poolName: string;
  /** ID of the base image volume the node's disk is a copy-on-write layer on. */
  readonly baseVolumeId: string;
  /** ID of the libvirt network the node is attached to. */
  readonly networkId: string;
  /** The node's cloud-init user-data (a `#cloud-config` document). */
  readonly userData: string;
  /** The node's cloud-init meta-data. */
  readonly metaData: string;
  /**
   * How libvirt runs the VM.
   * @default DomainType.KVM
   */
  readonly domainType?: DomainType;
}

const GIB = 1024 ** 3;

/**
 * One VM: a copy-on-write disk on the base image resized to the node's size, a cloud-init ISO
 * with its bootstrap, and a domain with a fixed MAC/IP lease, a serial console and no display.
 */
export class NodeVm extends Construct {
  /** The libvirt domain. */
  readonly domain: domain.Domain;
  /** The node's root disk. */
  readonly disk: volume.Volume;
  /** The node's cloud-init ISO. */
  readonly cloudInit: cloudinitDisk.CloudinitDisk;

  constructor(scope: Construct, id: string, props: NodeVmProps) {
    super(scope, id);
    const { node } = props;
    const domainType = props.domainType ?? DomainType.KVM;

    this.disk = new volume.Volume(this, 'Disk', {
      name: `${node.hostname}.qcow2`,
      pool: props.poolName,
      baseVolumeId: props.baseVolumeId,
      format: 'qcow2',
      size: node.diskGiB * GIB,
    });
    this.cloudInit = new cloudinitDisk.CloudinitDisk(this, 'CloudInit', {
      name: `${node.hostname}-cloudinit.iso`,
      pool: props.poolName,
      // Verbatim: shell in user-data is full of `${...}`, which Terraform would read as interpolation.
      userData: terraformLiteral(props.userData),
      metaData: terraformLiteral(props.metaData),
    });
    this.domain = new domain.Domain(this, 'Domain', {
      name: node.hostname,
      type: domainType,
      vcpu: node.vcpu,
      memory: node.memoryMiB,
      // Emulation cannot pass the host CPU through; KVM can, and nested features help containers.
      cpu: domainType === DomainType.KVM ? { mode: 'host-passthrough' } : undefined,
      autostart: true,
      running: true,
      qemuAgent: false,
      cloudinit: this.cloudInit.id,
      disk: [{ volumeId: this.disk.id }],
      networkInterface: [
        {
          networkId: props.networkId,
          hostname: node.hostname,
          mac: node.mac,
          addresses: [node.ip],
          waitForLease: false,
        },
      ],
      console: [{ type: 'pty', targetType: 'serial', targetPort: '0' }],
      xml: { xslt: NO_GRAPHICS_XSLT },
    });
  }
}
