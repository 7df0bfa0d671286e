import { Testing } from 'cdk8s';
import { DEFAULT_WORKLOAD_IMAGE, WebBackendChart, WebBackendChartProps } from '../../manifests';

type Manifest = { kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: any };

function synth(props?: WebBackendChartProps): { deployment: Manifest; service: Manifest; all: Manifest[] } {
  const chart = new WebBackendChart(Testing.app(), 'web-backend', props);
  const all = Testing.synth(chart) as Manifest[];
  const one = (kind: string) => {
    const found = all.filter((m) => m.kind === kind);
    expect(found).toHaveLength(1);
    return found[0];
  };
  return { deployment: one('Deployment'), service: one('Service'), all };
}

describe('WebBackendChart', () => {
  test('declares a Deployment of 5 replicas named web by default', () => {
    // GIVEN no props WHEN synthesized
    const { deployment } = synth();
    // THEN the desired state the controllers will keep is 5 pods
    expect(deployment.metadata.name).toBe('web');
    expect(deployment.spec.replicas).toBe(5);
  });

  test('selects its pods by what they are (app, tier), written out as matchLabels; the pods also carry team, which no selector uses', () => {
    const { deployment } = synth();
    expect(deployment.spec.selector).toEqual({ matchLabels: { app: 'web', tier: 'backend' } });
    expect(deployment.spec.template.metadata.labels).toEqual({ app: 'web', tier: 'backend', team: 'storefront' });
    // no hidden selector label (cdk8s-plus adds cdk8s.io/metadata.addr; the L1 objects do not)
    expect(JSON.stringify(deployment)).not.toMatch(/cdk8s\.io\/metadata\.addr/);
  });

  test('has a ClusterIP Service whose selector is the Deployment\'s, on the named port', () => {
    const { service, deployment } = synth();
    expect(service.metadata.name).toBe('web');
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(deployment.spec.template.spec.containers[0].ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  test('annotations carry metadata on the Deployment and pods, and no selector uses them', () => {
    const { deployment, service } = synth();
    const annotations = deployment.metadata.annotations!;
    expect(Object.keys(annotations)).toEqual(expect.arrayContaining(['k8s-lab.io/owner', 'k8s-lab.io/description', 'k8s-lab.io/runbook']));
    expect(deployment.spec.template.metadata.annotations).toEqual(annotations);
    for (const key of Object.keys(annotations)) {
      expect(Object.keys(deployment.spec.selector.matchLabels)).not.toContain(key);
      expect(Object.keys(service.spec.selector)).not.toContain(key);
    }
  });

  test('runs the pinned default image with requests, limits and both probes', () => {
    const container = synth().deployment.spec.template.spec.containers[0];
    expect(container.image).toBe(DEFAULT_WORKLOAD_IMAGE);
    expect(container.resources).toEqual({ requests: { cpu: '25m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/', port: 'http' });
  });

  test('props change replicas, labels (the selector\'s in both selectors, the others only on the pods) and image', () => {
    // GIVEN other values
    const selectorLabels = { app: 'shop', tier: 'backend' };
    const extraPodLabels = { 'example.com/team': 'checkout' };
    const { deployment, service } = synth({ replicas: 0, selectorLabels, extraPodLabels, image: 'registry.example.com/shop@sha256:' + 'a'.repeat(64) });
    // THEN they are used everywhere they belong
    expect(deployment.spec.replicas).toBe(0);
    expect(deployment.spec.selector.matchLabels).toEqual(selectorLabels);
    expect(service.spec.selector).toEqual(selectorLabels);
    expect(deployment.spec.template.metadata.labels).toEqual({ app: 'shop', tier: 'backend', 'example.com/team': 'checkout' });
    expect(deployment.metadata.labels).toEqual(deployment.spec.template.metadata.labels);
    expect(deployment.spec.template.spec.containers[0].image).toMatch(/@sha256:a{64}$/);
  });

  test('pods may carry no label besides the selector\'s', () => {
    const { deployment } = synth({ extraPodLabels: {} });
    expect(deployment.spec.template.metadata.labels).toEqual({ app: 'web', tier: 'backend' });
  });

  test('fails when replicas is negative or not a whole number', () => {
    expect(() => synth({ replicas: -1 })).toThrow(/WebBackendChart\.replicas must be a whole number of at least 0, got -1/);
    expect(() => synth({ replicas: 2.5 })).toThrow(/WebBackendChart\.replicas .* got 2\.5/);
  });

  test('fails when a label key or value is invalid, naming the label', () => {
    expect(() => synth({ selectorLabels: { 'bad key': 'x' } })).toThrow(/WebBackendChart\.selectorLabels: key "bad key" must be a label key/);
    expect(() => synth({ selectorLabels: { app: 'not valid!' } })).toThrow(/WebBackendChart\.selectorLabels\["app"\] must be a label value.*got "not valid!"/);
    expect(() => synth({ extraPodLabels: { team: 'x'.repeat(64) } })).toThrow(/WebBackendChart\.extraPodLabels\["team"\] must be a label value/);
  });

  test('fails when the selector is empty (an empty selector would select every pod)', () => {
    expect(() => synth({ selectorLabels: {} })).toThrow(/WebBackendChart\.selectorLabels must have at least one label.*got \{\}/);
  });

  test('fails when a pod label is both the selector\'s and an extra one, naming both props', () => {
    expect(() => synth({ extraPodLabels: { tier: 'frontend' } })).toThrow(
      'WebBackendChart.extraPodLabels["tier"] is also in WebBackendChart.selectorLabels ({"app":"web","tier":"backend"}); a label is either the selector\'s or one of the pods\' other labels, not both: remove it from one',
    );
  });

  test('fails when the image is not pinned to a tag or digest', () => {
    expect(() => synth({ image: 'nginx' })).toThrow(/WebBackendChart\.image must be an image reference pinned .* got "nginx"/);
    expect(() => synth({ image: 'docker.io/library/nginx:latest' })).toThrow(/WebBackendChart\.image .* got "docker\.io\/library\/nginx:latest"/);
  });

  test('fails when an annotation key is invalid', () => {
    expect(() => synth({ annotations: { '/nope': 'x' } })).toThrow(/WebBackendChart\.annotations: key "\/nope" must be a label key/);
  });

  test('golden: the default chart', () => {
    expect(synth().all).toMatchSnapshot();
  });
});
