import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { renderNodeFiles } from '../../../bootstrap';
import { ClusterStack } from '../../../constructs';
import { SEED_DIR, SeedImages, seedContentHash, validateSeedFiles, writeSeedImages } from '../../../constructs/private/seed-images';
import { ClusterSpecInput, parseClusterSpec, planCluster } from '../../../spec';
import { PRIVATE_VOLUME_XSLT } from '../../../constructs/private/volume-xslt';
import { FAKE_SECRETS } from '../../fixtures/fake-secrets';
import { resources, synthCluster } from '../../support/synth';

// Each node's NoCloud seed: a volume named after the node and its content's hash, uploaded from an
// image that synth writes beside cdk.tf.json (constructs/private/seed-images.ts). The full synths
// below run xorriso, as `npm run synth` does: it is a host requirement of synth itself (README,
// "Toolchain"), and a fake image writer would make "byte-identical" prove nothing.

/** Seed volume name by hostname. */
function seedNames(doc: ClusterSpecInput): Map<string, string> {
  const vols = Object.values(resources(synthCluster(doc).tf, 'libvirt_volume')) as { name: string }[];
  return new Map(
    vols
      .map((v) => /^(.+)-seed-[0-9a-f]{12}\.iso$/.exec(v.name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[0]]),
  );
}

/** A full synth (cdktf's own synthesizer, custom synthesis included) into a fresh folder; the stack's folder. */
function fullSynth(doc: ClusterSpecInput): string {
  const app = Testing.app();
  const stack = new ClusterStack(app, { spec: parseClusterSpec(doc).spec, secrets: FAKE_SECRETS });
  return path.join(Testing.fullSynth(stack), 'stacks', stack.node.id);
}

const twoPools = (gpuLabel: string): ClusterSpecInput => ({
  workerPools: [
    { name: 'general', count: 2 },
    { name: 'gpu', count: 1, labels: { accel: gpuLabel } },
  ],
});

describe('NoCloud seeds', () => {
  test("every node's seed holds exactly its rendered user-data and meta-data", () => {
    // GIVEN the default spec WHEN the stack is built
    const { spec } = parseClusterSpec({});
    const stack = new ClusterStack(Testing.app(), { spec, secrets: FAKE_SECRETS });
    const images = SeedImages.of(stack).images;
    // THEN there is one image per node, named like its volume, with the renderer's files and nothing else
    const plan = planCluster(spec);
    expect(images.size).toBe(plan.nodes.length);
    for (const node of plan.nodes) {
      const rendered = renderNodeFiles(plan, node, FAKE_SECRETS);
      const files = { 'user-data': rendered['user-data'], 'meta-data': rendered['meta-data'] };
      const name = `${node.hostname}-seed-${seedContentHash(files)}.iso`;
      expect(images.get(name)?.files).toEqual(files);
    }
  });

  test("changing one node's user-data changes only that node's seed name", () => {
    // GIVEN two pools; WHEN only the gpu pool's label changes (it is in its kubelet's node-labels)
    const before = seedNames(twoPools('a'));
    const after = seedNames(twoPools('b'));
    // THEN only the gpu worker gets a new seed name, and every other node keeps its own
    expect([...after.keys()]).toEqual([...before.keys()]);
    const changed = [...before.keys()].filter((host) => before.get(host) !== after.get(host));
    expect(changed).toEqual(['k8s-lab-worker-gpu-1']);
  });

  test("a seed's name hash covers every file's name and bytes, and nothing else", () => {
    const files = { 'user-data': '#cloud-config\n', 'meta-data': 'instance-id: a\n' };
    expect(seedContentHash(files)).toMatch(/^[0-9a-f]{12}$/);
    // Key order does not matter; content, a file's name and an added file do.
    expect(seedContentHash({ 'meta-data': files['meta-data'], 'user-data': files['user-data'] })).toBe(seedContentHash(files));
    expect(seedContentHash({ ...files, 'user-data': '#cloud-config\n\n' })).not.toBe(seedContentHash(files));
    expect(seedContentHash({ ...files, 'network-config': '' })).not.toBe(seedContentHash(files));
    // Moving bytes from one file to the other changes the hash (lengths are hashed too).
    expect(seedContentHash({ 'user-data': '#cloud-config\ni', 'meta-data': 'nstance-id: a\n' })).not.toBe(seedContentHash(files));
  });

  test('fails when a seed holds a file NoCloud does not read, or lacks user-data or meta-data', () => {
    expect(() => validateSeedFiles('node x', { 'user-data': '', 'meta-data': '', userdata: '' })).toThrow(
      /node x: seed file "userdata" is not one NoCloud reads; allowed: user-data, meta-data, network-config, vendor-data/,
    );
    expect(() => validateSeedFiles('node x', { 'user-data': '' })).toThrow(/node x: a NoCloud seed needs meta-data; got only user-data/);
  });

  describe('written at synth (xorriso)', () => {
    let first: string;
    let second: string;
    beforeAll(() => {
      // GIVEN the same spec synthesized twice, into two folders
      first = fullSynth({});
      second = fullSynth({});
    });
    afterAll(() => {
      for (const dir of [first, second]) if (dir) fs.rmSync(path.resolve(dir, '..', '..'), { recursive: true, force: true });
    });

    test('two synths of the same spec write byte-identical seeds', () => {
      const names = fs.readdirSync(path.join(first, SEED_DIR)).sort();
      expect(names).toHaveLength(6);
      expect(fs.readdirSync(path.join(second, SEED_DIR)).sort()).toEqual(names);
      for (const name of names) {
        const a = fs.readFileSync(path.join(first, SEED_DIR, name));
        const b = fs.readFileSync(path.join(second, SEED_DIR, name));
        expect({ name, identical: a.equals(b) }).toEqual({ name, identical: true });
      }
    });

    test("every seed volume's source is an image synth wrote beside cdk.tf.json, labelled cidata", () => {
      const tf = JSON.parse(fs.readFileSync(path.join(first, 'cdk.tf.json'), 'utf8')) as { resource: { libvirt_volume: Record<string, { name: string; source?: string }> } };
      const seeds = Object.values(tf.resource.libvirt_volume).filter((v) => v.name.includes('-seed-'));
      expect(seeds).toHaveLength(6);
      for (const seed of seeds) {
        const image = fs.readFileSync(path.join(first, seed.source!));
        // ISO 9660's primary volume descriptor (sector 16): type 1, "CD001", the volume ID at byte 40.
        const pvd = image.subarray(16 * 2048, 17 * 2048);
        expect({ seed: seed.name, magic: pvd.subarray(1, 6).toString('latin1'), label: pvd.subarray(40, 72).toString('latin1').trimEnd() }).toEqual({
          seed: seed.name,
          magic: 'CD001',
          label: 'cidata',
        });
      }
    });
  });

  test('a synth folder keeps only the seeds of the current nodes, each 0600', () => {
    // GIVEN a folder that holds a seed of a node that is gone
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-dir-'));
    try {
      fs.writeFileSync(path.join(dir, 'gone-seed-000000000000.iso'), 'old');
      // WHEN the images are written
      writeSeedImages([{ fileName: 'now-seed-111111111111.iso', files: { 'user-data': '#cloud-config\n', 'meta-data': 'instance-id: now\n' } }], dir);
      // THEN only the current one is there, readable by its owner only (it holds the bootstrap secrets)
      expect(fs.readdirSync(dir)).toEqual(['now-seed-111111111111.iso']);
      expect(fs.statSync(path.join(dir, 'now-seed-111111111111.iso')).mode & 0o777).toBe(0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('an image already written is kept (the next synth of an unchanged node runs no xorriso)', () => {
    const files = { 'user-data': '#cloud-config\n', 'meta-data': 'instance-id: kept\n' };
    const named = { fileName: `kept-seed-${seedContentHash(files)}.iso`, files };
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-keep-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Runs `fn` with a PATH that holds neither xargs nor xorriso: any attempt to write an image fails. */
    function withoutTools(fn: () => void): void {
      const saved = process.env.PATH;
      process.env.PATH = dir;
      try {
        fn();
      } finally {
        process.env.PATH = saved;
      }
    }

    test('an image whose name carries its content hash is kept as it is, with no tool run', () => {
      // GIVEN the image written once
      writeSeedImages([named], dir);
      const image = path.join(dir, named.fileName);
      const first = { bytes: fs.readFileSync(image), ino: fs.statSync(image).ino };
      // WHEN the same request is written again, with no xorriso on PATH
      withoutTools(() => writeSeedImages([named], dir));
      // THEN the same file is there, untouched, still 0600
      expect(fs.readdirSync(dir)).toEqual([named.fileName]);
      expect(fs.statSync(image).ino).toBe(first.ino);
      expect(fs.readFileSync(image).equals(first.bytes)).toBe(true);
      expect(fs.statSync(image).mode & 0o777).toBe(0o600);
    });

    test('fails when an image must be written and xorriso is missing: a name without its content hash is never trusted', () => {
      // GIVEN an image under a name that does not carry its files' hash
      const unnamed = { fileName: 'kept-seed-000000000000.iso', files };
      writeSeedImages([unnamed], dir);
      // WHEN it is written again with no tools on PATH, THEN it is rewritten (and so fails here: xargs, which
      // starts xorriso, is not found)
      expect(() => withoutTools(() => writeSeedImages([unnamed], dir))).toThrow(/writing the NoCloud seed images with xorriso failed .*xargs ENOENT|xorriso is needed/);
    });

    test('fails when an image cannot be written, and leaves the folder as the last synth left it (its stack JSON names those images)', () => {
      // GIVEN the images of a last synth
      writeSeedImages([named], dir);
      const before = fs.readdirSync(dir);
      // WHEN a new image must be written and cannot be (no tools on PATH)
      const changed = { ...files, 'meta-data': 'instance-id: changed\n' };
      const next = { fileName: `kept-seed-${seedContentHash(changed)}.iso`, files: changed };
      expect(() => withoutTools(() => writeSeedImages([next], dir))).toThrow(/writing the NoCloud seed images with xorriso failed|xorriso is needed/);
      // THEN the last synth's image is still there, and nothing else
      expect(fs.readdirSync(dir)).toEqual(before);
    });

    test('a torn or foreign file under the right name is written again, as a whole ISO 9660 image', () => {
      // GIVEN a file with the image's name that is not a whole image (an interrupted copy)
      fs.writeFileSync(path.join(dir, named.fileName), Buffer.alloc(4096));
      // WHEN the images are written
      writeSeedImages([named], dir);
      // THEN it was replaced by a real image (ISO 9660's "CD001" in sector 16)
      const image = fs.readFileSync(path.join(dir, named.fileName));
      expect(image.subarray(16 * 2048 + 1, 16 * 2048 + 6).toString('latin1')).toBe('CD001');
      expect(fs.readdirSync(dir)).toEqual([named.fileName]);
    });
  });
});

describe('node volumes in the pool', () => {
  test("every node's seed and root disk is created through the owner-only volume XSLT; the base image is not", () => {
    // GIVEN the default spec WHEN it is synthesized
    const vols = Object.values(resources(synthCluster({}).tf, 'libvirt_volume')) as { name: string; xml?: { xslt?: string } }[];
    const plan = planCluster(parseClusterSpec({}).spec);
    // THEN each node's two volumes carry PRIVATE_VOLUME_XSLT, and the shared base image keeps libvirt's mode
    for (const node of plan.nodes) {
      const own = vols.filter((v) => v.name === `${node.hostname}.qcow2` || v.name.startsWith(`${node.hostname}-seed-`));
      expect(own.map((v) => v.xml?.xslt)).toEqual([PRIVATE_VOLUME_XSLT, PRIVATE_VOLUME_XSLT]);
    }
    expect(vols.filter((v) => v.xml === undefined)).toHaveLength(1);
  });
});
