import { Construct } from 'constructs';
import * as domain from '../.gen/providers/libvirt/domain';
import * as volume from '../.gen/providers/libvirt/volume';
import { DomainType, NodePlan } from '../spec';
import { DOMAIN_XSLT } from './private/domain-xslt';
import { replacedWith } from './private/replace-triggers';
import { PRIVATE_VOLUME_XSLT } from './private/volume-xslt';
import { SeedImages, seedContentHash, SeedFiles, validateSeedFiles } from './private/seed-images';

/** Props of {@link NodeVm}. */
export interface NodeVmProps {
  /** The node: hostname, fixed MAC/IP, vCPU, memory and disk size. */
  readonly node: NodePlan;
  /** The storage pool that holds the node's disk and NoCloud seed. */
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
 * One VM: a copy-on-write disk on the base image resized to the node's size, a NoCloud seed with its
 * bootstrap, and a domain with a fixed MAC/IP lease, a serial console (logged on the host) and no display.
 *
 * The seed is an image written at synth (ISO 9660, label `cidata`, holding exactly the node's `user-data`
 * and `meta-data`: constructs/private/seed-images.ts) and uploaded as a plain volume, attached as the
 * domain's second disk, where cloud-init's NoCloud finds it by its label. It is not a
 * `libvirt_cloudinit_disk`: provider v0.8.3 downloads those back on every refresh, and that download can
 * hang for good (README, "A fault of the provider"); a volume's refresh reads only its metadata.
 * A volume's `source` is read only when it is created, so the name carries the content's hash: changed
 * user-data is a new volume, and so a new domain (`replace_triggered_by`: the provider would not move the domain
 * to the new volume itself). The root disk stays; a Kubernetes or etcd node's `instance-id`
 * does too, so cloud-init takes it for the same instance, while a load balancer's follows its user-data, so its
 * bootstrap runs again (bootstrap/node-files.ts, `instanceIdOf`).
 */
export class NodeVm extends Construct {
  /** The libvirt domain. */
  readonly domain: domain.Domain;
  /** The node's root disk. */
  readonly disk: volume.Volume;
  /** The node's NoCloud seed volume (`<hostname>-seed-<content hash>.iso`). */
  readonly seed: volume.Volume;

  constructor(scope: Construct, id: string, props: NodeVmProps) {
    super(scope, id);
    const { node } = props;
    const domainType = props.domainType ?? DomainType.KVM;
    for (const field of ['vcpu', 'memoryMiB', 'diskGiB'] as const) {
      const value = node[field];
      if (!Number.isInteger(value) || value < 1) throw new Error(`NodeVm.node.${field} of ${node.hostname} must be a whole number of at least 1, got ${JSON.stringify(value)}`);
    }
    const seedFiles: SeedFiles = { 'user-data': props.userData, 'meta-data': props.metaData };
    validateSeedFiles(`node ${node.hostname}`, seedFiles);
    const seedName = `${node.hostname}-seed-${seedContentHash(seedFiles)}.iso`;

    this.disk = new volume.Volume(this, 'Disk', {
      name: `${node.hostname}.qcow2`,
      pool: props.poolName,
      baseVolumeId: props.baseVolumeId,
      format: 'qcow2',
      size: node.diskGiB * GIB,
      // Owner-only in the pool: once the node has booted, the disk holds its keys (see PRIVATE_VOLUME_XSLT).
      xml: { xslt: PRIVATE_VOLUME_XSLT },
    });
    this.seed = new volume.Volume(this, 'Seed', {
      name: seedName,
      pool: props.poolName,
      // Relative to the stack's output folder, where Terraform runs and synth wrote the image.
      source: SeedImages.of(this).add({ fileName: seedName, files: seedFiles }),
      // What libvirt's directory pool reads an ISO 9660 image back as: any other format is a diff on every
      // plan (the provider's read-back), and so a replacement. The domain attaches it as raw, the provider's default.
      format: 'iso',
      // Owner-only in the pool: the seed holds the node's user-data, secrets included.
      xml: { xslt: PRIVATE_VOLUME_XSLT },
    });
    this.domain = new domain.Domain(this, 'Domain', {
      name: node.hostname,
      type: domainType,
      vcpu: node.vcpu,
      memory: node.memoryMiB,
      // KVM passes the host CPU through (nested features help containers). Emulation cannot; its default model,
      // qemu64, lacks x86-64-v2 (SSE4.2, POPCNT), which current images need (Calico's among them), so it gets
      // libvirt's `maximum`: QEMU's `-cpu max`, every feature it emulates.
      cpu: { mode: domainType === DomainType.KVM ? 'host-passthrough' : 'maximum' },
      autostart: true,
      running: true,
      qemuAgent: false,
      // The root disk first (the BIOS boots it), then the seed.
      disk: [{ volumeId: this.disk.id }, { volumeId: this.seed.id }],
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
      xml: { xslt: DOMAIN_XSLT },
      // A new seed or root disk (changed user-data, another base image) has a new ID, but provider v0.8.3 plans the
      // domain's `disk` change as an in-place update it never carries out: the domain kept the deleted volume, and
      // every later plan, deploy and destroy failed reading it (the deploy tier saw it). Replaced instead, the domain
      // is defined again on the new volumes.
      lifecycle: { replaceTriggeredBy: replacedWith(this.seed, this.disk) },
    });
  }
}
