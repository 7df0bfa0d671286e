import { Testing, TerraformStack } from 'cdktf';
import { BaseImage, NodeVm, StoragePool, WorkerPool } from '../../../constructs';
import { SeedImages } from '../../../constructs/private/seed-images';
import { parseClusterSpec, planCluster } from '../../../spec';
import { FAKE_SECRETS } from '../../fixtures/fake-secrets';

// The constructs index.ts exports for use on their own, each given bad props directly: a clear error naming the
// field, the value and what is allowed, before any resource exists (the spec's checks do not run for them).

const plan = planCluster(parseClusterSpec({}).spec);
const newStack = () => new TerraformStack(Testing.app(), 'leaf');
/** The Terraform resources of a stack, by type. */
const resourcesOf = (stack: TerraformStack) => Object.keys((JSON.parse(Testing.synth(stack)) as { resource?: object }).resource ?? {});

describe('constructs used on their own refuse bad props, naming the field, the value and what is allowed', () => {
  test('StoragePool: a relative path, or no name', () => {
    const stack = newStack();
    expect(() => new StoragePool(stack, 'Pool', { name: 'lab', path: 'images' })).toThrow('StoragePool.path must be an absolute local path (starting with /, no control characters), got "images"');
    expect(() => new StoragePool(stack, 'Pool2', { name: '', path: '/var/lib/lab' })).toThrow('StoragePool.name must be a non-empty libvirt pool name, got ""');
    expect(resourcesOf(stack)).toEqual([]);
  });

  test('BaseImage: a source that is neither a URL nor an absolute path', () => {
    const stack = newStack();
    expect(() => new BaseImage(stack, 'Base', { name: 'base.qcow2', poolName: 'lab', source: 'noble.img' })).toThrow(
      'BaseImage.source must be an http(s) URL with a host, or an absolute local path (starting with /, no control characters), got "noble.img"',
    );
    expect(resourcesOf(stack)).toEqual([]);
  });

  test.each([
    ['vcpu', 0],
    ['memoryMiB', 1.5],
    ['diskGiB', -20],
  ] as const)('NodeVm: node.%s of %p', (field, value) => {
    const stack = newStack();
    const node = { ...plan.workers[0], [field]: value };
    expect(() => new NodeVm(stack, 'Vm', { node, poolName: 'lab', baseVolumeId: 'base', networkId: 'net', userData: '#cloud-config\n', metaData: 'instance-id: x\n' })).toThrow(
      `NodeVm.node.${field} of ${node.hostname} must be a whole number of at least 1, got ${JSON.stringify(value)}`,
    );
    expect(resourcesOf(stack)).toEqual([]);
  });

  test('WorkerPool: a pool name the spec does not have, listing the ones it has', () => {
    const stack = newStack();
    expect(() => new WorkerPool(stack, 'Pool', { plan, secrets: FAKE_SECRETS, storagePoolName: 'lab', baseVolumeId: 'base', networkId: 'net', workerPoolName: 'gpu' })).toThrow(
      'workerPoolName must name one of workerPools[].name (general), got "gpu"',
    );
    expect(resourcesOf(stack)).toEqual([]);
  });

  test('SeedImages: two different images under one file name', () => {
    const images = SeedImages.of(newStack());
    images.add({ fileName: 'a-seed.iso', files: { 'user-data': '#cloud-config\n', 'meta-data': 'instance-id: a\n' } });
    expect(() => images.add({ fileName: 'a-seed.iso', files: { 'user-data': '#cloud-config\n', 'meta-data': 'instance-id: b\n' } })).toThrow('two different seed images are named a-seed.iso');
    // The same image twice is one image
    expect(() => images.add({ fileName: 'a-seed.iso', files: { 'user-data': '#cloud-config\n', 'meta-data': 'instance-id: a\n' } })).not.toThrow();
  });
});
