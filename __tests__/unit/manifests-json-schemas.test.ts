import { OpenApiDocument, schemaFileName, standaloneSchemas } from '../../scripts/kubernetes-json-schemas/standalone-schemas';

// The converter from Kubernetes' swagger.json to kubeconform's standalone(-strict) schemas, on
// small documents shaped like the real one. The tools tier runs kubeconform on its real output.

const def = (d: string) => `#/definitions/${d}`;
const doc: OpenApiDocument = {
  swagger: '2.0',
  definitions: {
    'io.k8s.api.apps.v1.Deployment': {
      type: 'object',
      description: 'dropped',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { $ref: def('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'), description: 'a sibling draft 4 ignores' },
        spec: { $ref: def('io.k8s.api.apps.v1.DeploymentSpec') },
      },
      'x-kubernetes-group-version-kind': [{ group: 'apps', version: 'v1', kind: 'Deployment' }],
    },
    'io.k8s.api.apps.v1.DeploymentSpec': {
      type: 'object',
      required: ['selector'],
      properties: {
        replicas: { type: 'integer', format: 'int32' },
        selector: { type: 'object', additionalProperties: { type: 'string' } },
        maxSurge: { $ref: def('io.k8s.apimachinery.pkg.util.intstr.IntOrString') },
        cpu: { $ref: def('io.k8s.apimachinery.pkg.api.resource.Quantity') },
      },
    },
    'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': { type: 'object', properties: { name: { type: 'string' } } },
    'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string' },
    'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string' },
    'io.k8s.api.core.v1.Service': {
      type: 'object',
      properties: { metadata: { $ref: def('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta') } },
      'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'Service' }],
    },
    'io.k8s.api.networking.v1.Ingress': {
      type: 'object',
      properties: { schema: { $ref: def('io.k8s.Recursive') } },
      'x-kubernetes-group-version-kind': [{ group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' }],
    },
    'io.k8s.Recursive': { type: 'object', properties: { items: { type: 'array', items: { $ref: def('io.k8s.Recursive') } } } },
  },
};

describe('standaloneSchemas', () => {
  const files = standaloneSchemas(doc);
  const deployment = files.get('deployment-apps-v1.json') as any;

  test('names files the way kubeconform\'s {{.ResourceKind}}{{.KindSuffix}} template does', () => {
    expect([...files.keys()].sort()).toEqual(['deployment-apps-v1.json', 'ingress-networking-v1.json', 'service-v1.json']);
    expect(schemaFileName({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole' })).toBe('clusterrole-rbac-v1.json');
  });

  test('each file holds every definition it reaches, so every $ref resolves inside it', () => {
    for (const [file, schema] of files) {
      const refs = JSON.stringify(schema).match(/"\$ref":"[^"]*"/g) ?? [];
      for (const ref of refs) {
        const name = /#\/definitions\/([^"]*)/.exec(ref)?.[1];
        expect({ file, ref, resolves: name !== undefined && (schema.definitions as Record<string, unknown>)[name] !== undefined }).toEqual({ file, ref, resolves: true });
      }
    }
    expect(Object.keys(deployment.definitions).sort()).toEqual([
      'io.k8s.api.apps.v1.DeploymentSpec',
      'io.k8s.apimachinery.pkg.api.resource.Quantity',
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
      'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
    ]);
  });

  test('keeps a recursive definition recursive instead of looping', () => {
    const ingress = files.get('ingress-networking-v1.json') as any;
    expect(ingress.definitions['io.k8s.Recursive'].properties.items.items).toEqual({ $ref: def('io.k8s.Recursive') });
  });

  test('strict: objects with declared properties refuse unknown ones; maps keep their value schema', () => {
    expect(deployment.additionalProperties).toBe(false);
    const spec = deployment.definitions['io.k8s.api.apps.v1.DeploymentSpec'];
    expect(spec.additionalProperties).toBe(false);
    expect(spec.properties.selector.additionalProperties).toEqual({ type: 'string' });
    expect(spec.required).toEqual(['selector']);
    expect(standaloneSchemas(doc, { strict: false }).get('deployment-apps-v1.json')!.additionalProperties).toBeUndefined();
  });

  test('pins apiVersion and kind to the file\'s own', () => {
    expect(deployment.properties.apiVersion).toEqual({ type: 'string', enum: ['apps/v1'] });
    expect(deployment.properties.kind).toEqual({ type: 'string', enum: ['Deployment'] });
    expect((files.get('service-v1.json') as any).properties.apiVersion.enum).toEqual(['v1']);
  });

  test('int-or-string accepts both; Quantity accepts numbers too; a $ref stands alone; descriptions are dropped', () => {
    expect(deployment.definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString']).toEqual({ oneOf: [{ type: 'string' }, { type: 'integer' }] });
    expect(deployment.definitions['io.k8s.apimachinery.pkg.api.resource.Quantity']).toEqual({ oneOf: [{ type: 'string' }, { type: 'number' }] });
    expect(deployment.properties.metadata).toEqual({ $ref: def('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta') });
    expect(JSON.stringify(deployment)).not.toMatch(/description/);
  });

  test('fails when a $ref points at a missing definition', () => {
    const broken: OpenApiDocument = { definitions: { A: { type: 'object', properties: { b: { $ref: def('B') } } } } };
    expect(() => standaloneSchemas(broken)).toThrow(/definitions\["A"\]: \$ref to missing definition "B"/);
  });

  test('fails when a $ref points outside #/definitions/', () => {
    const broken: OpenApiDocument = { definitions: { A: { type: 'object', properties: { b: { $ref: 'other.json#/B' } } } } };
    expect(() => standaloneSchemas(broken)).toThrow(/\$ref must point into #\/definitions\/, got "other\.json#\/B"/);
  });

  test('fails when two definitions claim the same file', () => {
    const gvk = [{ group: 'apps', version: 'v1', kind: 'Deployment' }];
    const clash: OpenApiDocument = { definitions: { A: { type: 'object', 'x-kubernetes-group-version-kind': gvk }, B: { type: 'object', 'x-kubernetes-group-version-kind': gvk } } };
    expect(() => standaloneSchemas(clash)).toThrow(/deployment-apps-v1\.json: both definitions "A" and "B" serve apps\/v1 Deployment/);
  });

  test('fails when the document has no definitions', () => {
    expect(() => standaloneSchemas({} as OpenApiDocument)).toThrow(/no "definitions" object/);
  });
});
