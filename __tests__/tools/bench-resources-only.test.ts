import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { runInRoot } from '../support/output-tree';
import { REGISTER_TS, ROOT, requireTool } from '../support/tools';

// `npm run bench` states how low the app's ratios could go from scripts/bench/resources-only.ts: the cluster's
// resources made by cdktf alone. That bound is only honest while the script makes what main.ts makes. Here both
// are synthesized, for the default cluster and for 100 workers, and compared resource type by resource type: how
// many, and which attributes they set.

let tmp: string;

beforeAll(() => {
  requireTool('xorriso'); // main.ts writes the seed images
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-resources-only-'));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Per resource type: how many, and the sorted union of the attribute names they set. */
type Shape = Record<string, { count: number; attributes: string[] }>;

function shapeOf(outDir: string): Shape {
  const [stack] = fs.readdirSync(path.join(outDir, 'stacks'));
  const json = JSON.parse(fs.readFileSync(path.join(outDir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as { resource: Record<string, Record<string, object>> };
  const shape: Shape = {};
  for (const [type, resources] of Object.entries(json.resource)) {
    const attributes = new Set(Object.values(resources).flatMap((r) => Object.keys(r).filter((k) => k !== '//')));
    shape[type] = { count: Object.keys(resources).length, attributes: [...attributes].sort() };
  }
  return shape;
}

function synth(app: string, name: string, env: NodeJS.ProcessEnv): Shape {
  const out = path.join(tmp, name);
  runInRoot(process.execPath, ['--require', REGISTER_TS, app], { ...env, CDKTF_OUTDIR: out });
  return shapeOf(out);
}

function clusterShape(name: string, spec: object): Shape {
  const specFile = path.join(tmp, `${name}.yaml`);
  fs.writeFileSync(specFile, YAML.stringify(spec));
  return synth('main.ts', name, { CLUSTER_CONFIG: specFile, K8S_LAB_SECRETS_DIR: path.join(tmp, `${name}-secrets`) });
}

test.each([
  ['the default cluster', {}, 6],
  ['100 workers', { network: { cidr: '10.150.0.0/23', addressesPerPool: 100 }, workerPools: [{ name: 'general', count: 100 }] }, 104],
])('resources-only.ts makes the same resource types, counts and attributes as main.ts for %s', (name, spec, vms) => {
  // GIVEN main.ts's synth of the cluster
  const cluster = clusterShape(name.replace(/\W+/g, '-'), spec);
  // WHEN resources-only.ts synthesizes as many VMs
  const alone = synth('scripts/bench/resources-only.ts', `alone-${vms}`, { BENCH_VMS: String(vms), BENCH_LIBS: 'yaml,zod' });
  // THEN each resource type has the same count and sets the same attributes
  expect(alone).toEqual(cluster);
}, 180_000);

test('resources-only.ts refuses a VM count or a library it does not know, naming the value', () => {
  const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, ['--require', REGISTER_TS, 'scripts/bench/resources-only.ts'], { cwd: ROOT, env: { ...process.env, ...env, CDKTF_OUTDIR: path.join(tmp, 'refused') }, encoding: 'utf8' });
  const vms = run({ BENCH_VMS: 'many' });
  expect(vms.status).toBe(2);
  expect(vms.stderr).toContain('BENCH_VMS must be a whole number from 1 to 1000, got "many"');
  const libs = run({ BENCH_LIBS: 'yaml,lodash' });
  expect(libs.status).toBe(2);
  expect(libs.stderr).toContain('BENCH_LIBS must list some of yaml, zod, comma-separated; got "yaml,lodash"');
  expect(fs.existsSync(path.join(tmp, 'refused'))).toBe(false);
});
