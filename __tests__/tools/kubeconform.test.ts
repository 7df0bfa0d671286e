import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { DEFAULT_KUBERNETES_VERSION } from '../../spec';
import { ROOT, RunResult, runWithTools } from '../support/tools';

// kubeconform (built from the Go module proxy by `npm run tools`) validates every synthesized
// manifest against strict JSON schemas generated offline from the pinned Kubernetes release's
// OpenAPI document; and the same check must reject broken objects.

const schemaDir = path.join(ROOT, '.tools', 'kubernetes-schemas', `v${DEFAULT_KUBERNETES_VERSION}-standalone-strict`);
/** kubeconform's template: lower-case kind, then -group-version (see its pkg/registry/registry.go). */
const schemaLocation = path.join(schemaDir, '{{.ResourceKind}}{{.KindSuffix}}.json');

function kubeconform(files: readonly string[]): RunResult & { output: string } {
  if (!fs.existsSync(path.join(schemaDir, '.complete'))) {
    throw new Error(`the Kubernetes ${DEFAULT_KUBERNETES_VERSION} JSON schemas are missing (${schemaDir}); run 'npm run tools'`);
  }
  const run = runWithTools('kubeconform', ['-strict', '-summary', '-schema-location', schemaLocation, ...files], { timeoutMs: 60_000 });
  return { ...run, output: `${run.stdout}${run.stderr}` };
}

/** The counts of kubeconform's summary line. */
function summary(output: string): { found: number; valid: number; invalid: number; errors: number; skipped: number } {
  const m = /Summary: (\d+) resources? found in \d+ files? - Valid: (\d+), Invalid: (\d+), Errors: (\d+), Skipped: (\d+)/.exec(output);
  if (!m) throw new Error(`kubeconform printed no summary line:\n${output}`);
  const [found, valid, invalid, errors, skipped] = m.slice(1).map(Number);
  return { found, valid, invalid, errors, skipped };
}

let tmp: string;
let distDir: string;
let synthesized: string[];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeconform-'));
  distDir = path.join(tmp, 'dist');
  // The real `cdk8s synth` (cdk8s.yaml -> manifests/main.ts), on the default cluster spec.
  const specFile = path.join(tmp, 'cluster.yaml');
  fs.writeFileSync(specFile, '{}\n');
  const synth = runWithTools('npx', ['cdk8s', 'synth', '--no-check-upgrade', '--output', distDir], { env: { CLUSTER_CONFIG: specFile }, timeoutMs: 120_000 });
  if (synth.status !== 0) throw new Error(`cdk8s synth failed:\n${synth.stdout}${synth.stderr}`);
  synthesized = fs.readdirSync(distDir).filter((f) => f.endsWith('.k8s.yaml')).sort().map((f) => path.join(distDir, f));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The objects of one synthesized file. */
const objectsOf = (file: string): any[] => YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS());

/** Writes objects as a multi-document YAML file and returns its path. */
function writeObjects(name: string, objects: readonly unknown[]): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, objects.map((o) => YAML.stringify(o)).join('---\n'));
  return file;
}

describe('kubeconform on the synthesized manifests', () => {
  test('cdk8s synth writes one file per chart', () => {
    expect(synthesized.map((f) => path.basename(f))).toEqual(['pool-pinned.k8s.yaml', 'web-backend.k8s.yaml', 'web-preview.k8s.yaml']);
  });

  test('every object of every chart is valid under the strict schemas, none skipped', () => {
    const objects = synthesized.flatMap(objectsOf);
    const run = kubeconform(synthesized);
    expect({ status: run.status, output: run.output }).toEqual({ status: 0, output: expect.any(String) });
    expect(summary(run.output)).toEqual({ found: objects.length, valid: objects.length, invalid: 0, errors: 0, skipped: 0 });
  });

  describe('rejects', () => {
    const webDeployment = () => {
      const d = objectsOf(synthesized.find((f) => f.endsWith('web-backend.k8s.yaml'))!).find((o) => o.kind === 'Deployment');
      expect(d).toBeDefined();
      return d;
    };

    test('a Deployment whose replicas is a string ("five")', () => {
      const d = webDeployment();
      d.spec.replicas = 'five';
      const run = kubeconform([writeObjects('replicas-five.yaml', [d])]);
      expect(run.status).not.toBe(0);
      expect(run.output).toMatch(/Deployment web is invalid.*\/spec\/replicas.*got string, want integer/);
      expect(summary(run.output)).toMatchObject({ found: 1, valid: 0, invalid: 1 });
    });

    test('an unknown field (strict): a misspelt nodeSelector in the pod spec', () => {
      const d = webDeployment();
      d.spec.template.spec.nodeSelecter = { disk: 'ssd' };
      const run = kubeconform([writeObjects('unknown-field.yaml', [d])]);
      expect(run.status).not.toBe(0);
      expect(run.output).toMatch(/\/spec\/template\/spec.*additional properties 'nodeSelecter' not allowed/);
    });

    test('a container port that is not a number, deep inside the pod template', () => {
      const d = webDeployment();
      d.spec.template.spec.containers[0].ports[0].containerPort = 'http';
      const run = kubeconform([writeObjects('bad-port.yaml', [d])]);
      expect(run.status).not.toBe(0);
      expect(run.output).toMatch(/containerPort.*got string, want integer/);
    });

    test('a kind it has no schema for (an error, not a silent skip)', () => {
      const run = kubeconform([writeObjects('unknown-kind.yaml', [{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }])]);
      expect(run.status).not.toBe(0);
      expect(run.output).toMatch(/could not find schema for Widget/);
    });

    test('a Deployment of an API version the pinned release no longer serves (apps/v1beta2)', () => {
      const d = webDeployment();
      d.apiVersion = 'apps/v1beta2';
      const run = kubeconform([writeObjects('removed-api.yaml', [d])]);
      expect(run.status).not.toBe(0);
      expect(run.output).toMatch(/could not find schema for Deployment/);
    });
  });
});
