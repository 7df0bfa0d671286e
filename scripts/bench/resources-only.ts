/**
 * A bound for `npm run bench`: the cluster's Terraform resources made with cdktf and the provider bindings alone, with
 * fixed values and nothing of ours but the two XSLT constants the constructs attach (no spec, no renderer, no seed
 * image, no secret). The same resource types, count
 * and attribute shapes as main.ts makes for BENCH_VMS nodes (default 6: 1 load balancer, 3 control planes, 2 workers):
 * the provider, the network with a DNS host per node, the pool, the base image, and per node a disk, a seed volume
 * and a domain. BENCH_LIBS=yaml,zod also loads those libraries, which the renderers and the spec check cannot do
 * without. No implementation of the cluster on cdktf can synthesize faster than this, so the bench can show how far
 * a goal stated as a ratio is reachable at all.
 */
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import * as domain from '../../.gen/providers/libvirt/domain';
import * as network from '../../.gen/providers/libvirt/network';
import * as pool from '../../.gen/providers/libvirt/pool';
import { LibvirtProvider } from '../../.gen/providers/libvirt/provider';
import * as volume from '../../.gen/providers/libvirt/volume';
import { DOMAIN_XSLT } from '../../constructs/private/domain-xslt';
import { replacedWith } from '../../constructs/private/replace-triggers';
import { PRIVATE_VOLUME_XSLT } from '../../constructs/private/volume-xslt';

const vms = Number(process.env.BENCH_VMS ?? 6);
if (!Number.isInteger(vms) || vms < 1 || vms > 1000) {
  console.error(`BENCH_VMS must be a whole number from 1 to 1000, got ${JSON.stringify(process.env.BENCH_VMS)}`);
  process.exit(2);
}
// The libraries to load first, comma-separated: the app's own need yaml (the renderers serialise every config file
// with it) and zod (the spec check).
const LIBRARIES = ['yaml', 'zod'];
const libraries = (process.env.BENCH_LIBS ?? '').split(',').filter((l) => l !== '');
for (const l of libraries) {
  if (!LIBRARIES.includes(l)) {
    console.error(`BENCH_LIBS must list some of ${LIBRARIES.join(', ')}, comma-separated; got ${JSON.stringify(process.env.BENCH_LIBS)}`);
    process.exit(2);
  }
  require(l);
}

const ip = (i: number) => `10.150.${Math.floor((i + 10) / 256)}.${(i + 10) % 256}`;
const hostname = (i: number) => `k8s-lab-node-${i + 1}`;

const app = new App();
const stack = new TerraformStack(app, 'resources-only');
new LibvirtProvider(stack, 'Libvirt', { uri: 'qemu:///system' });
const net = new network.Network(stack, 'Network', {
  name: 'k8s-lab',
  mode: 'nat',
  domain: 'k8s.lab',
  addresses: ['10.150.0.0/23'],
  autostart: true,
  dhcp: { enabled: true },
  dns: { enabled: true, localOnly: true, hosts: Array.from({ length: vms }, (_, i) => ({ hostname: `${hostname(i)}.k8s.lab`, ip: ip(i) })) },
});
const storage = new pool.Pool(stack, 'Pool', { name: 'k8s-lab', type: 'dir', target: { path: '/var/lib/libvirt/k8s-lab' } });
const base = new volume.Volume(stack, 'Base', { name: 'base.qcow2', pool: storage.name, source: '/var/lib/images/base.qcow2', format: 'qcow2' });
for (let i = 0; i < vms; i++) {
  const disk = new volume.Volume(stack, `Disk${i}`, { name: `${hostname(i)}.qcow2`, pool: storage.name, baseVolumeId: base.id, format: 'qcow2', size: 20 * 2 ** 30, xml: { xslt: PRIVATE_VOLUME_XSLT } });
  const seed = new volume.Volume(stack, `Seed${i}`, { name: `${hostname(i)}-seed.iso`, pool: storage.name, source: `seeds/${hostname(i)}-seed.iso`, format: 'iso', xml: { xslt: PRIVATE_VOLUME_XSLT } });
  new domain.Domain(stack, `Domain${i}`, {
    name: hostname(i),
    type: 'kvm',
    vcpu: 2,
    memory: 2048,
    cpu: { mode: 'host-passthrough' },
    autostart: true,
    running: true,
    qemuAgent: false,
    disk: [{ volumeId: disk.id }, { volumeId: seed.id }],
    networkInterface: [{ networkId: net.id, hostname: hostname(i), mac: `52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, addresses: [ip(i)], waitForLease: false }],
    console: [{ type: 'pty', targetType: 'serial', targetPort: '0' }],
    xml: { xslt: DOMAIN_XSLT },
    lifecycle: { replaceTriggeredBy: replacedWith(seed, disk) },
  });
}
for (const name of ['api_endpoint', 'load_balancers', 'control_planes', 'workers', 'kubeconfig']) new TerraformOutput(stack, name, { value: name });
app.synth();
