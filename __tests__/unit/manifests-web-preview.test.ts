import { Testing } from 'cdk8s';
import { WebPreviewChart, WebPreviewChartProps } from '../../manifests';

type Manifest = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec: any };

function synth(props?: WebPreviewChartProps): Manifest[] {
  return Testing.synth(new WebPreviewChart(Testing.app(), 'web-preview', props)) as Manifest[];
}

describe('WebPreviewChart', () => {
  test('is one Deployment named web-preview with 1 replica and no Service of its own', () => {
    const all = synth();
    expect(all.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['Deployment/web-preview']);
    expect(all[0].spec.replicas).toBe(1);
  });

  test('labels its pods app=web, tier=preview, team=storefront and selects them by app and tier', () => {
    const [d] = synth();
    expect(d.spec.selector).toEqual({ matchLabels: { app: 'web', tier: 'preview' } });
    expect(d.spec.template.metadata.labels).toEqual({ app: 'web', tier: 'preview', team: 'storefront' });
  });

  test('fails when replicas, labels or image are bad, naming the field', () => {
    expect(() => synth({ replicas: -1 })).toThrow(/WebPreviewChart\.replicas must be a whole number of at least 0, got -1/);
    expect(() => synth({ selectorLabels: { 'a/b/c': 'x' } })).toThrow(/WebPreviewChart\.selectorLabels: key "a\/b\/c" must be a label key/);
    expect(() => synth({ extraPodLabels: { app: 'web' } })).toThrow(/WebPreviewChart\.extraPodLabels\["app"\] is also in WebPreviewChart\.selectorLabels/);
    expect(() => synth({ image: 'registry.k8s.io/e2e-test-images/agnhost' })).toThrow(/WebPreviewChart\.image must be an image reference pinned/);
  });

  test('golden: the default chart', () => {
    expect(synth()).toMatchSnapshot();
  });
});
