import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderCluster } from '../../scripts/render';
import fake from '../fixtures/fake-secrets.json';
import { REGISTER_TS, ROOT, requireTool, runTool } from '../support/tools';

// `npm run render` shows a person what each VM gets. This proves it is exactly what the VM's NoCloud
// seed holds: synth writes one image per node (xorriso) beside cdk.tf.json, and real readers open it
// the way a guest would see it: blkid (the filesystem type and the label NoCloud looks for), isoinfo
// through both Joliet and Rock Ridge names. Its files must equal the rendered files byte for byte, and
// cloud-init's own schema check must pass on the user-data taken out of the image.

let tmp: string;
let stackDir: string;
let volumes: { name: string; source?: string }[];
beforeAll(() => {
  for (const tool of ['isoinfo', 'blkid', 'cloud-init', 'xorriso']) requireTool(tool);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seed-images-'));
  // GIVEN the fake secret set as the cluster's secrets, and the default spec
  const secrets = path.join(tmp, '.secrets', 'k8s-lab');
  fs.mkdirSync(secrets, { recursive: true, mode: 0o700 });
  const { _comment, ...values } = fake;
  void _comment;
  fs.writeFileSync(path.join(secrets, 'secrets.json'), JSON.stringify(values), { mode: 0o600 });
  fs.writeFileSync(path.join(tmp, 'spec.yaml'), '{}\n');

  // WHEN the app is synthesized and the cluster rendered with the same spec and secrets
  const out = path.join(tmp, 'cdktf.out');
  const synth = spawnSync('node', ['--require', REGISTER_TS, 'main.ts'], {
    cwd: ROOT,
    env: { ...process.env, CDKTF_OUTDIR: out, K8S_LAB_SECRETS_DIR: path.join(tmp, '.secrets'), CLUSTER_CONFIG: path.join(tmp, 'spec.yaml') },
    encoding: 'utf8',
  });
  if (synth.status !== 0) throw new Error(`main.ts exited ${synth.status}:\n${synth.stderr}`);
  renderCluster({ CLUSTER_CONFIG: path.join(tmp, 'spec.yaml') }, tmp);
  stackDir = path.join(out, 'stacks', 'k8s-lab');
  const tf = JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8')) as { resource: Record<string, Record<string, { name: string; source?: string }>> };
  expect(tf.resource.libvirt_cloudinit_disk).toBeUndefined();
  volumes = Object.values(tf.resource.libvirt_volume).filter((v) => /-seed-[0-9a-f]{12}\.iso$/.test(v.name));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** A file of an ISO image read with isoinfo: `-J` through Joliet names, `-R` through Rock Ridge names. */
function isoFile(image: string, names: '-J' | '-R', file: string): string {
  const run = spawnSync('isoinfo', [names, '-x', `/${file}`, '-i', image], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`isoinfo ${names} -x /${file} -i ${image} exited ${run.status}: ${run.stderr}`);
  return run.stdout;
}

test('every node has one seed volume, uploaded from an image synth wrote beside cdk.tf.json', () => {
  const hosts = fs.readdirSync(path.join(tmp, 'rendered')).sort();
  expect(hosts).toHaveLength(6);
  expect(volumes.map((v) => v.name.replace(/-seed-[0-9a-f]{12}\.iso$/, '')).sort()).toEqual(hosts);
  for (const v of volumes) expect(fs.statSync(path.join(stackDir, v.source!)).isFile()).toBe(true);
});

test('blkid sees each image as ISO 9660 labelled cidata, the filesystem NoCloud looks for', () => {
  for (const v of volumes) {
    const run = runTool('blkid', ['-o', 'export', path.join(stackDir, v.source!)]);
    expect({ seed: v.name, status: run.status }).toEqual({ seed: v.name, status: 0 });
    expect({ seed: v.name, type: /^TYPE=(.*)$/m.exec(run.output)?.[1], label: /^LABEL=(.*)$/m.exec(run.output)?.[1] }).toEqual({ seed: v.name, type: 'iso9660', label: 'cidata' });
  }
});

test("each image holds exactly the node's rendered user-data and meta-data, under Joliet and Rock Ridge names", () => {
  for (const v of volumes) {
    const host = v.name.replace(/-seed-[0-9a-f]{12}\.iso$/, '');
    const image = path.join(stackDir, v.source!);
    // Nothing else is in it.
    const listing = spawnSync('isoinfo', ['-R', '-f', '-i', image], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '').sort();
    expect({ host, listing }).toEqual({ host, listing: ['/meta-data', '/user-data'] });
    for (const file of ['user-data', 'meta-data']) {
      const rendered = fs.readFileSync(path.join(tmp, 'rendered', host, file), 'utf8');
      for (const names of ['-J', '-R'] as const) {
        expect({ host, file, names, same: isoFile(image, names, file) === rendered }).toEqual({ host, file, names, same: true });
      }
    }
  }
  // (and the shell inside really does contain the characters Terraform would interpolate, had it held them)
  expect(fs.readFileSync(path.join(tmp, 'rendered', 'k8s-lab-cp-1', 'user-data'), 'utf8')).toMatch(/\$\{/);
});

test('cloud-init schema accepts the user-data taken out of every image', () => {
  for (const v of volumes) {
    const extracted = path.join(tmp, `${v.name}.user-data`);
    fs.writeFileSync(extracted, isoFile(path.join(stackDir, v.source!), '-R', 'user-data'), { mode: 0o600 });
    const result = runTool('cloud-init', ['schema', '--config-file', extracted]);
    expect({ seed: v.name, status: result.status, valid: /Valid cloud-config/.test(result.output) }).toEqual({ seed: v.name, status: 0, valid: true });
  }
});

test('blkid tells a seed from an image with another label (the label check can fail)', () => {
  // GIVEN an image of the same files with the label NoCloud would not find
  const dir = path.join(tmp, 'other-label');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'user-data'), '#cloud-config\n');
  fs.writeFileSync(path.join(dir, 'meta-data'), 'instance-id: x\n');
  const image = path.join(tmp, 'other-label.iso');
  expect(runTool('xorriso', ['-as', 'mkisofs', '-quiet', '-o', image, '-V', 'config-2', '-J', '-r', dir]).status).toBe(0);
  // THEN blkid reports that label, not cidata
  expect(/^LABEL=(.*)$/m.exec(runTool('blkid', ['-o', 'export', image]).output)?.[1]).toBe('config-2');
});

test('fails when xorriso is missing: synth stops before writing anything, naming the package to install', () => {
  // GIVEN a PATH without xorriso
  const out = path.join(tmp, 'no-xorriso-out');
  // WHEN main.ts runs with it
  const synth = spawnSync(process.execPath, ['--require', REGISTER_TS, 'main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PATH: path.join(tmp, 'empty-path'), CDKTF_OUTDIR: out, K8S_LAB_SECRETS_DIR: path.join(tmp, '.secrets'), CLUSTER_CONFIG: path.join(tmp, 'spec.yaml') },
    encoding: 'utf8',
  });
  // THEN it fails with the reason and the fix, and wrote no output
  expect(synth.status).toBe(1);
  expect(synth.stderr).toMatch(/xorriso is needed to write each node's NoCloud seed image at synth.*install the Debian package xorriso \(npm run tools does\)/);
  expect(fs.existsSync(out)).toBe(false);
});
