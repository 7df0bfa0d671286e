/**
 * An edit to any .ts file is seen by the next `cdktf synth`, with no build step in between: the app starts
 * through scripts/register-ts.js (cdktf.json), whose cache of transpiled files is keyed by each file's text.
 * Run on a scratch copy of the project (sources only, node_modules linked) with the real cdktf CLI.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { scratchProjectCopy } from '../support/scratch-project';

let work: string;

beforeAll(() => {
  work = scratchProjectCopy('synth-sees-edits-');
  fs.writeFileSync(path.join(work, 'spec.yaml'), '{}\n');
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** `cdktf synth` in the copy, as a user runs it; the storage pool's type in the cdk.tf.json it wrote. */
function synthPoolType(): string {
  const run = spawnSync('npx', ['--no-install', 'cdktf', 'synth', '--output', 'cdktf.out'], {
    cwd: work,
    env: {
      ...process.env,
      CI: '1',
      CHECKPOINT_DISABLE: '1',
      CLUSTER_CONFIG: path.join(work, 'spec.yaml'),
      K8S_LAB_SECRETS_DIR: path.join(work, '.secrets'),
      K8S_LAB_TS_CACHE_DIR: path.join(work, '.ts-cache'),
    },
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (run.status !== 0) throw new Error(`cdktf synth exited ${run.status}:\n${run.stdout}${run.stderr}`);
  const tf = JSON.parse(fs.readFileSync(path.join(work, 'cdktf.out', 'stacks', 'k8s-lab', 'cdk.tf.json'), 'utf8')) as {
    resource: { libvirt_pool: Record<string, { type: string }> };
  };
  const pools = Object.values(tf.resource.libvirt_pool);
  expect(pools).toHaveLength(1);
  return pools[0].type;
}

test('a construct edited between two cdktf synths: the second synth writes the change, and undoing it is seen too', () => {
  // GIVEN a first synth (the transpile cache is now filled)
  const construct = path.join(work, 'constructs', 'storage-pool.ts');
  const original = fs.readFileSync(construct, 'utf8');
  expect(original).toContain("type: 'dir'");
  expect(synthPoolType()).toBe('dir');
  const { mtime } = fs.statSync(construct);
  // WHEN the construct is edited (same length, modification time put back) and synth runs again
  fs.writeFileSync(construct, original.replace("type: 'dir'", "type: 'zfs'"));
  fs.utimesSync(construct, mtime, mtime);
  // THEN the new value is in cdk.tf.json
  expect(synthPoolType()).toBe('zfs');
  // AND the edit undone is seen by the next synth
  fs.writeFileSync(construct, original);
  expect(synthPoolType()).toBe('dir');
});
