import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { prepareStateFiles, restrictCdktfOutput, restrictTree, stateFilesOf } from '../../host/private-outputs';
import { fileMode as mode } from '../support/output-tree';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-private-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('restrictTree', () => {
  test('takes group and other bits from every file and folder, keeps the owner bits (an executable provider stays executable)', () => {
    // GIVEN a synth output of before, opened up, with a provider binary terraform init copied in
    const stack = path.join(dir, 'stacks', 'k8s-lab');
    fs.mkdirSync(path.join(stack, '.terraform'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(stack, 'cdk.tf.json'), '{}', { mode: 0o644 });
    fs.writeFileSync(path.join(stack, '.terraform', 'terraform-provider-libvirt'), '', { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    // WHEN
    restrictTree(dir);
    // THEN
    expect(mode(dir)).toBe('0700');
    expect(mode(path.join(dir, 'stacks'))).toBe('0700');
    expect(mode(path.join(stack, 'cdk.tf.json'))).toBe('0600');
    expect(mode(path.join(stack, '.terraform'))).toBe('0700');
    expect(mode(path.join(stack, '.terraform', 'terraform-provider-libvirt'))).toBe('0700');
  });

  test('does not follow a symbolic link out of the tree', () => {
    const outside = path.join(dir, 'outside');
    fs.writeFileSync(outside, '', { mode: 0o644 });
    fs.mkdirSync(path.join(dir, 'out'));
    fs.symlinkSync(outside, path.join(dir, 'out', 'link'));
    restrictTree(path.join(dir, 'out'));
    expect(mode(outside)).toBe('0644');
  });
});

describe('restrictCdktfOutput', () => {
  const writeApp = (outdir: string) => {
    fs.mkdirSync(path.join(outdir, 'stacks', 'k8s-lab'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(outdir, 'manifest.json'), '{}', { mode: 0o644 });
    fs.writeFileSync(path.join(outdir, 'stacks', 'k8s-lab', 'cdk.tf.json'), '{}', { mode: 0o644 });
  };

  test('a folder of the app\'s output alone: it, the manifest and the stacks become private', () => {
    // GIVEN cdktf.out as an earlier synth under umask 022 left it
    const out = path.join(dir, 'cdktf.out');
    fs.mkdirSync(out, { mode: 0o755 });
    writeApp(out);
    // WHEN
    restrictCdktfOutput(out);
    // THEN
    expect([mode(out), mode(path.join(out, 'manifest.json')), mode(path.join(out, 'stacks', 'k8s-lab')), mode(path.join(out, 'stacks', 'k8s-lab', 'cdk.tf.json'))]).toEqual(['0700', '0600', '0700', '0600']);
  });

  test('a folder of the user\'s given as the output: only the app\'s entries change, not the folder or its other files', () => {
    // GIVEN an output folder that also holds a note and a sub-folder of the user's
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine', { mode: 0o644 });
    fs.mkdirSync(path.join(dir, 'sub'), { mode: 0o755 });
    writeApp(dir);
    // WHEN
    restrictCdktfOutput(dir);
    // THEN
    expect([mode(dir), mode(path.join(dir, 'notes.txt')), mode(path.join(dir, 'sub'))]).toEqual(['0755', '0644', '0755']);
    expect([mode(path.join(dir, 'manifest.json')), mode(path.join(dir, 'stacks', 'k8s-lab', 'cdk.tf.json'))]).toEqual(['0600', '0600']);
  });
});

describe('prepareStateFiles', () => {
  test('creates absent state files empty with 0600 and makes existing ones 0600, keeping their content', () => {
    const [state, backup] = stateFilesOf('k8s-lab', dir);
    expect([state, backup]).toEqual([path.join(dir, 'terraform.k8s-lab.tfstate'), path.join(dir, 'terraform.k8s-lab.tfstate.backup')]);
    fs.writeFileSync(state, '{"version":4}', { mode: 0o644 });
    prepareStateFiles([state, backup]);
    expect([mode(state), mode(backup)]).toEqual(['0600', '0600']);
    expect(fs.readFileSync(state, 'utf8')).toBe('{"version":4}');
    expect(fs.readFileSync(backup, 'utf8')).toBe('');
  });
});
