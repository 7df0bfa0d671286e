import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { ClusterPlan, Cni, EtcdTopology } from '../../spec';
import { LABELLED_SPEC, PREBAKED_CONTAINER_NODE_SPEC, planOf, userDataText } from '../fixtures/bootstrap-helpers';
import { requireTool, runTool } from '../support/tools';

// Debian's cloud-init 22.4 (installed by `npm run tools`) validates every node's user-data:
//  1. `cloud-init schema --config-file F` checks types and values of the keys it knows;
//  2. it accepts unknown top-level keys (FACTS.md), so every top-level key is also checked against
//     the schema JSON that ships in the same package: `allOf` over module `$defs`, each with its
//     own `properties`.

const SCHEMA_GLOB_ROOT = '/usr/lib/python3/dist-packages/cloudinit';

let tmp: string;
beforeAll(() => {
  requireTool('cloud-init');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cloud-init-schema-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function cloudInitSchema(userData: string, name: string): { status: number | null; output: string } {
  const file = path.join(tmp, `${name}.yaml`);
  fs.writeFileSync(file, userData, { mode: 0o600 });
  return runTool('cloud-init', ['schema', '--config-file', file]);
}

/** Every top-level key the packaged schema defines (the `properties` of each module `$def` in `allOf`). */
function knownTopLevelKeys(): Set<string> {
  const found = spawnSync('find', [SCHEMA_GLOB_ROOT, '-name', 'schema-cloud-config-v1.json'], { encoding: 'utf8' });
  const file = found.stdout.split('\n').find((l) => l.trim() !== '');
  if (!file) throw new Error(`schema-cloud-config-v1.json not found under ${SCHEMA_GLOB_ROOT}; is Debian's cloud-init installed? run 'npm run tools'`);
  const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as { allOf: { $ref: string }[]; $defs: Record<string, { properties?: Record<string, unknown> }> };
  const keys = new Set<string>();
  for (const { $ref } of schema.allOf) {
    const def = schema.$defs[$ref.replace('#/$defs/', '')];
    if (!def) throw new Error(`schema allOf refers to ${$ref}, which $defs lacks`);
    for (const k of Object.keys(def.properties ?? {})) keys.add(k);
  }
  if (keys.size < 50) throw new Error(`only ${keys.size} top-level keys found in ${file}: the schema's shape changed`);
  return keys;
}

/** Top-level keys of a user-data the packaged schema does not define. */
function unknownTopLevelKeys(userData: string, known: Set<string>): string[] {
  return Object.keys(YAML.parse(userData) as object).filter((k) => !known.has(k));
}

const plans: [string, ClusterPlan][] = [
  ['default spec', planOf()],
  ['labelled/tainted pool, ssh key, flannel', planOf({ ...LABELLED_SPEC, kubernetes: { cni: Cni.FLANNEL } })],
  ['prebaked node image, container-node options', planOf(PREBAKED_CONTAINER_NODE_SPEC)],
  ['external etcd, two load balancers with a virtual IP', planOf({ etcd: { topology: EtcdTopology.EXTERNAL }, loadBalancer: { count: 2, virtualIp: '192.168.150.4' } })],
];
const cases = plans.flatMap(([specName, plan]) => plan.nodes.map((n) => [`${specName}: ${n.hostname}`, plan, n] as const));

describe('cloud-init schema accepts every rendered user-data', () => {
  test.each(cases)('%s', (name, plan, node) => {
    // GIVEN the node's user-data
    const userData = userDataText(plan, node);
    // WHEN
    const result = cloudInitSchema(userData, name.replace(/[^a-z0-9-]+/gi, '_'));
    // THEN
    expect(result.output).toMatch(/Valid cloud-config/);
    expect(result.status).toBe(0);
  });
});

describe('every top-level key is one the packaged schema defines', () => {
  test.each(cases)('%s', (_name, plan, node) => {
    expect(unknownTopLevelKeys(userDataText(plan, node), knownTopLevelKeys())).toEqual([]);
  });
});

describe('the checks can fail', () => {
  test('cloud-init schema rejects a wrong type (numeric permissions)', () => {
    // GIVEN a rendered user-data with one file mode turned into a number
    const doc = YAML.parse(userDataText(plans[0][1], plans[0][1].workers[0]));
    doc.write_files[0].permissions = 420;
    // WHEN
    const result = cloudInitSchema('#cloud-config\n' + YAML.stringify(doc), 'numeric-permissions');
    // THEN
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/write_files\.0\.permissions: 420 is not of type 'string'/);
  });

  test('a typo in a top-level key (runcmds) passes cloud-init schema but fails the key check', () => {
    // GIVEN
    const doc = YAML.parse(userDataText(plans[0][1], plans[0][1].workers[0]));
    doc.runcmds = doc.runcmd;
    delete doc.runcmd;
    const userData = '#cloud-config\n' + YAML.stringify(doc);
    // WHEN / THEN: the hole the key check closes
    expect(cloudInitSchema(userData, 'runcmds').status).toBe(0);
    expect(unknownTopLevelKeys(userData, knownTopLevelKeys())).toEqual(['runcmds']);
  });
});
