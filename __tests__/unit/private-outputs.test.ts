import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { prepareStateFiles, restrictTree, stateFilesOf } from '../../host/private-outputs';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-private-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8).padStart(4, '0');

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
