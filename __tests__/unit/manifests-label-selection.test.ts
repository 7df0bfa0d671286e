import { Testing } from 'cdk8s';
import { addWorkloadCharts } from '../../manifests';
import { parseClusterSpec, planCluster } from '../../spec';

// How the charts group pods: every selector is a subset of its pods' labels, and the web Service
// selects the web backend's pods and nothing else the app deploys.

type Manifest = { kind: string; metadata: { name: string }; spec: any };

function synthAll(): Manifest[] {
  const charts = addWorkloadCharts(Testing.app(), { plan: planCluster(parseClusterSpec({}).spec) });
  return Object.values(charts).flatMap((c) => Testing.synth(c) as Manifest[]);
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('workload labels and selectors', () => {
  const all = synthAll();
  const deployments = all.filter((m) => m.kind === 'Deployment');
  const services = all.filter((m) => m.kind === 'Service');
  const byName = (name: string) => deployments.find((d) => d.metadata.name === name)!;

  test('the app deploys the web backend, its Service, the preview and the pinned workload', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['pool-pinned', 'web', 'web-preview']);
    expect(services.map((s) => s.metadata.name)).toEqual(['web']);
  });

  test.each(['pool-pinned', 'web', 'web-preview'])('Deployment %s: matchLabels ⊆ pod template labels, and no other selector form', (name) => {
    const d = byName(name);
    expect(Object.keys(d.spec.selector)).toEqual(['matchLabels']);
    expect(selects(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
  });

  test('the web Service selects the web Deployment\'s pods', () => {
    const [service] = services;
    expect(selects(service.spec.selector, byName('web').spec.template.metadata.labels)).toBe(true);
  });

  test('the web Service does not select the preview pods, though they share app and team', () => {
    const [service] = services;
    const preview = byName('web-preview').spec.template.metadata.labels;
    const web = byName('web').spec.template.metadata.labels;
    expect(preview.app).toBe(service.spec.selector.app);
    expect(preview.team).toBe(web.team);
    expect(selects(service.spec.selector, preview)).toBe(false);
  });

  test.each(['pool-pinned', 'web', 'web-preview'])('Deployment %s: the owning team is a pod label that no selector uses (a selector is fixed once the Deployment exists)', (name) => {
    const d = byName(name);
    expect(d.spec.template.metadata.labels.team).toEqual(expect.any(String));
    expect(Object.keys(d.spec.selector.matchLabels)).not.toContain('team');
    for (const s of services) expect(Object.keys(s.spec.selector)).not.toContain('team');
  });

  test('the web Service selects exactly one Deployment\'s pods', () => {
    const [service] = services;
    expect(deployments.filter((d) => selects(service.spec.selector, d.spec.template.metadata.labels)).map((d) => d.metadata.name)).toEqual(['web']);
  });

  test('no two Deployments\' selectors overlap (a ReplicaSet would fight over pods)', () => {
    for (const a of deployments) {
      for (const b of deployments) {
        if (a !== b) expect(selects(a.spec.selector.matchLabels, b.spec.template.metadata.labels)).toBe(false);
      }
    }
  });

  test('fails when chart props would make one chart\'s selectors take another\'s pods, naming both', () => {
    // GIVEN preview pods labelled as the web backend's, plus one label more
    const plan = planCluster(parseClusterSpec({}).spec);
    const webPreview = { selectorLabels: { app: 'web', tier: 'backend', track: 'preview' } };
    // WHEN the app is built THEN the web selectors would take them: refused
    expect(() => addWorkloadCharts(Testing.app(), { plan, webPreview })).toThrow(
      'WorkloadChartsProps.webBackend.selectorLabels {"app":"web","tier":"backend"} select the pods of webPreview too (their labels are {"app":"web","tier":"backend","track":"preview","team":"storefront"}); give each chart\'s selector a label value the others\' pods lack',
    );
  });

  test('fails when one chart\'s selector matches another\'s pods by an extra label of theirs', () => {
    // GIVEN a preview selected by team only, and web pods of that team
    const plan = planCluster(parseClusterSpec({}).spec);
    const webPreview = { selectorLabels: { team: 'storefront' }, extraPodLabels: {} };
    // WHEN the app is built THEN the preview's selector would take web's pods: refused
    expect(() => addWorkloadCharts(Testing.app(), { plan, webPreview })).toThrow(/WorkloadChartsProps\.webPreview\.selectorLabels \{"team":"storefront"\} select the pods of webBackend too/);
  });
});
