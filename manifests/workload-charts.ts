import { App } from 'cdk8s';
import { ClusterPlan } from '../spec';
import { PoolPinnedChart, PoolPinnedChartProps } from './pool-pinned-chart';
import { WebBackendChart, WebBackendChartProps } from './web-backend-chart';
import { describeValue } from './private/validate-props';
import { WebPreviewChart, WebPreviewChartProps } from './web-preview-chart';

/** Props of {@link addWorkloadCharts}: each chart's own props, all optional but the plan. */
export interface WorkloadChartsProps {
  /** The cluster plan (`planCluster(spec)`) the pinned workload reads its pool's node labels from. */
  readonly plan: ClusterPlan;
  /** @default - WebBackendChart's defaults */
  readonly webBackend?: WebBackendChartProps;
  /** @default - WebPreviewChart's defaults */
  readonly webPreview?: WebPreviewChartProps;
  /** @default - PoolPinnedChart's defaults (the spec's first worker pool) */
  readonly poolPinned?: Omit<PoolPinnedChartProps, 'plan'>;
}

/** The charts of the app, one output file each. */
export interface WorkloadCharts {
  readonly webBackend: WebBackendChart;
  readonly webPreview: WebPreviewChart;
  readonly poolPinned: PoolPinnedChart;
}

/**
 * Adds every workload chart to `app`. The construct IDs are the output file names
 * (dist/web-backend.k8s.yaml, ...): keep them stable.
 */
export function addWorkloadCharts(app: App, props: WorkloadChartsProps): WorkloadCharts {
  const charts: WorkloadCharts = {
    webBackend: new WebBackendChart(app, 'web-backend', props.webBackend),
    webPreview: new WebPreviewChart(app, 'web-preview', props.webPreview),
    poolPinned: new PoolPinnedChart(app, 'pool-pinned', { ...props.poolPinned, plan: props.plan }),
  };
  checkSelectorsApart(charts);
  return charts;
}

/**
 * Each chart's selectors are its `selectorLabels` (the Deployment's `matchLabels`, and the web Service's
 * selector): none may select another chart's pods, or two Deployments would fight over them and the Service
 * would send traffic to the wrong ones. A selector selects the pods whose labels include all of its own.
 * @throws Error naming the selecting chart's selectorLabels, and the other chart's pod labels.
 */
function checkSelectorsApart(charts: WorkloadCharts): void {
  const entries = Object.entries(charts) as [keyof WorkloadCharts, WorkloadCharts[keyof WorkloadCharts]][];
  for (const [selecting, a] of entries) {
    for (const [selected, b] of entries) {
      if (selecting === selected) continue;
      if (Object.entries(a.selectorLabels).every(([k, v]) => b.podLabels[k] === v)) {
        throw new Error(
          `WorkloadChartsProps.${selecting}.selectorLabels ${describeValue(a.selectorLabels)} select the pods of ${selected} too (their labels are ${describeValue(b.podLabels)}); give each chart's selector a label value the others' pods lack`,
        );
      }
    }
  }
}
