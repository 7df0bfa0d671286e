import { App } from 'cdk8s';
import { ClusterPlan } from '../spec';
import { PoolPinnedChart, PoolPinnedChartProps } from './pool-pinned-chart';
import { WebBackendChart, WebBackendChartProps } from './web-backend-chart';
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
  return {
    webBackend: new WebBackendChart(app, 'web-backend', props.webBackend),
    webPreview: new WebPreviewChart(app, 'web-preview', props.webPreview),
    poolPinned: new PoolPinnedChart(app, 'pool-pinned', { ...props.poolPinned, plan: props.plan }),
  };
}
