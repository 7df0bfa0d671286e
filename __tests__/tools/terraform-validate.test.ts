import * as fs from 'fs';
import * as path from 'path';
import { Testing, TerraformStack } from 'cdktf';
import { network, provider, volume } from '../../.gen/providers/libvirt';
import { ClusterStack } from '../../constructs';
import { ClusterSpecInput, parseClusterSpec } from '../../spec';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { runWithTools, terraformBinary, terraformValidate } from '../support/tools';

// terraform validate with the real libvirt provider v0.8.3 (built by `npm run tools` into a local
// mirror): the generated bindings, the constructs and the provider schema must agree.

function fullSynthCluster(doc: ClusterSpecInput): string {
  const { spec } = parseClusterSpec(doc);
  const stack = new ClusterStack(Testing.app(), { spec, secrets: FAKE_SECRETS });
  return path.join(Testing.fullSynth(stack), 'stacks', spec.name);
}

describe('terraform validate with the real libvirt provider', () => {
  test('accepts a bare network and volume made through the generated bindings', () => {
    // GIVEN a stack with one libvirt_network and one libvirt_volume
    const app = Testing.app();
    const stack = new TerraformStack(app, 'bare');
    new provider.LibvirtProvider(stack, 'libvirt', { uri: 'qemu:///system' });
    new network.Network(stack, 'net', { name: 'bare-net', mode: 'nat', addresses: ['10.200.0.0/24'] });
    new volume.Volume(stack, 'vol', { name: 'bare.qcow2', pool: 'default', size: 1024 ** 3 });
    // WHEN validated  THEN the provider accepts it
    const result = terraformValidate(path.join(Testing.fullSynth(stack), 'stacks', 'bare'));
    expect(result.diagnostics).toBe('');
    expect(result.valid).toBe(true);
  });

  test('rejects an attribute the provider does not have (the check can fail)', () => {
    // GIVEN a volume with a made-up attribute written through an escape hatch
    const app = Testing.app();
    const stack = new TerraformStack(app, 'wrong');
    new provider.LibvirtProvider(stack, 'libvirt', { uri: 'qemu:///system' });
    const vol = new volume.Volume(stack, 'vol', { name: 'wrong.qcow2', pool: 'default' });
    vol.addOverride('size_gib', 10);
    // WHEN validated  THEN terraform names the unsupported argument
    const result = terraformValidate(path.join(Testing.fullSynth(stack), 'stacks', 'wrong'));
    expect(result.valid).toBe(false);
    expect(result.diagnostics).toMatch(/No argument or block type is named "size_gib"/);
  });

  test('accepts the default cluster (6 domains)', () => {
    const dir = fullSynthCluster({});
    const tf = JSON.parse(fs.readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8'));
    expect(Object.keys(tf.resource.libvirt_domain)).toHaveLength(6);
    const result = terraformValidate(dir);
    expect(result.diagnostics).toBe('');
    expect(result.valid).toBe(true);
  });

  test('accepts a 3-control-plane, 10-worker cluster (14 domains)', () => {
    const dir = fullSynthCluster({ workerPools: [{ name: 'general', count: 10 }] });
    const tf = JSON.parse(fs.readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8'));
    expect(Object.keys(tf.resource.libvirt_domain)).toHaveLength(14);
    expect(terraformValidate(dir).valid).toBe(true);
  });

  test('the provider schema lists the resources the constructs use', () => {
    // GIVEN the bare stack initialised  WHEN the provider schema is dumped
    const app = Testing.app();
    const stack = new TerraformStack(app, 'schema');
    new provider.LibvirtProvider(stack, 'libvirt', { uri: 'qemu:///system' });
    const dir = path.join(Testing.fullSynth(stack), 'stacks', 'schema');
    terraformValidate(dir);
    const run = runWithTools(terraformBinary(), [`-chdir=${dir}`, 'providers', 'schema', '-json']);
    expect(run.status).toBe(0);
    const schema = JSON.parse(run.stdout) as { provider_schemas: Record<string, { resource_schemas: Record<string, unknown> }> };
    const [address, libvirt] = Object.entries(schema.provider_schemas)[0];
    // THEN it is dmacvicar/libvirt from the local mirror, with every resource we build
    expect(address).toMatch(/\/dmacvicar\/libvirt$/);
    expect(Object.keys(libvirt.resource_schemas)).toEqual(expect.arrayContaining(['libvirt_domain', 'libvirt_volume', 'libvirt_network', 'libvirt_pool']));
  });
});
