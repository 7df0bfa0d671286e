import { Testing } from 'cdk8s';
import { PoolPinnedChart, PoolPinnedChartProps } from '../../manifests';
import { POOL_LABEL_KEY } from '../../spec';
import { planOf } from '../fixtures/bootstrap-helpers';

type Manifest = { kind: string; metadata: { name: string }; spec: any };

function synth(plan = planOf(), props: Omit<PoolPinnedChartProps, 'plan'> = {}): { chart: PoolPinnedChart; deployment: Manifest } {
  const chart = new PoolPinnedChart(Testing.app(), 'pool-pinned', { ...props, plan });
  const [deployment] = Testing.synth(chart) as Manifest[];
  return { chart, deployment };
}

describe('PoolPinnedChart', () => {
  test('pins to the default spec\'s first pool by the pool label its workers register with', () => {
    // GIVEN the default cluster spec (one pool, "general")
    const plan = planOf();
    // WHEN the chart is synthesized with no pool named
    const { chart, deployment } = synth(plan);
    // THEN its nodeSelector is the pool label from the plan the VMs are built from
    expect(chart.pool).toBe('general');
    expect(deployment.spec.template.spec.nodeSelector).toEqual({ [POOL_LABEL_KEY]: 'general' });
  });

  test('every nodeSelector label is carried by every worker of the pool, and by no worker outside it', () => {
    const plan = planOf({ workerPools: [{ name: 'general', count: 2 }, { name: 'gpu', count: 1, labels: { accelerator: 'gpu' } }] });
    for (const pool of ['general', 'gpu']) {
      const selector: Record<string, string> = synth(plan, { pool }).deployment.spec.template.spec.nodeSelector;
      const matches = (labels: Readonly<Record<string, string>>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
      expect(plan.workers.filter((w) => w.pool === pool).every((w) => matches(w.labels))).toBe(true);
      expect(plan.workers.filter((w) => w.pool !== pool).some((w) => matches(w.labels))).toBe(false);
    }
  });

  test('selects on the pool label alone, not on the pool\'s other labels (a node keeps the labels it joined with, so an edited one would select no node)', () => {
    // GIVEN a spec whose pool carries labels of its own
    const plan = planOf({ workerPools: [{ name: 'fast', labels: { 'example.com/disk': 'nvme', zone: 'a' } }] });
    // WHEN synthesized
    const selector = synth(plan).deployment.spec.template.spec.nodeSelector;
    // THEN it selects the pool by its name, which the workers register with beside their other labels
    expect(selector).toEqual({ [POOL_LABEL_KEY]: 'fast' });
    expect(plan.workers[0].labels).toMatchObject({ 'example.com/disk': 'nvme', zone: 'a', [POOL_LABEL_KEY]: 'fast' });
  });

  test('tolerates the taints of its pool, so a dedicated pool admits it', () => {
    const plan = planOf({
      workerPools: [
        { name: 'general' },
        { name: 'dedicated', labels: { dedicated: 'batch' }, taints: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }] },
      ],
    });
    expect(synth(plan, { pool: 'dedicated' }).deployment.spec.template.spec.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' },
    ]);
    expect(synth(plan, { pool: 'general' }).deployment.spec.template.spec.tolerations).toBeUndefined();
  });

  test('selects its own pods by what they are (app, tier), 2 replicas by default; the pods also carry team', () => {
    const { deployment } = synth();
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.selector.matchLabels).toEqual({ app: 'pool-pinned', tier: 'backend' });
    expect(deployment.spec.template.metadata.labels).toEqual({ app: 'pool-pinned', tier: 'backend', team: 'platform' });
  });

  test('fails when the pool is not in the spec, listing the pools there are', () => {
    expect(() => synth(planOf(), { pool: 'gpu' })).toThrow(/PoolPinnedChart\.pool must name a worker pool of the cluster spec \(general\), got "gpu"/);
  });

  test('fails when the pool has no nodes', () => {
    const plan = planOf({ workerPools: [{ name: 'general' }, { name: 'spare', count: 0 }] });
    expect(() => synth(plan, { pool: 'spare' })).toThrow(/PoolPinnedChart\.pool: worker pool "spare" has no nodes \(workerPools\[1\]\.count is 0\)/);
  });

  test('fails when the spec has no worker pools', () => {
    expect(() => synth(planOf({ workerPools: [] }))).toThrow(/PoolPinnedChart\.pool: the cluster spec has no worker pools/);
  });

  test('fails when replicas or labels are bad, naming the field', () => {
    expect(() => synth(planOf(), { replicas: -3 })).toThrow(/PoolPinnedChart\.replicas must be a whole number of at least 0, got -3/);
    expect(() => synth(planOf(), { selectorLabels: { app: '-x' } })).toThrow(/PoolPinnedChart\.selectorLabels\["app"\] must be a label value/);
    expect(() => synth(planOf(), { extraPodLabels: { tier: 'x' } })).toThrow(/PoolPinnedChart\.extraPodLabels\["tier"\] is also in PoolPinnedChart\.selectorLabels/);
  });

  test('golden: the chart for the default spec', () => {
    expect(Testing.synth(synth().chart)).toMatchSnapshot();
  });
});
