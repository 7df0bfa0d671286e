import { Chart, ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { ClusterPlan } from '../spec';
import { hardenedPodTemplate } from './private/hardened-pod-template';
import { poolPlacement } from './private/pool-placement';
import { checkAnnotations, checkImage, checkReplicas, checkWorkloadLabels } from './private/validate-props';
import { DEFAULT_WORKLOAD_ARGS, DEFAULT_WORKLOAD_IMAGE } from './workload-defaults';

/** What the pinned workload's pods are: its Deployment's selector. */
export const POOL_PINNED_SELECTOR: Readonly<Record<string, string>> = { app: 'pool-pinned', tier: 'backend' };

/** The pinned workload's pods' other labels: who owns them. */
export const POOL_PINNED_EXTRA_LABELS: Readonly<Record<string, string>> = { team: 'platform' };

/** Props of {@link PoolPinnedChart}. */
export interface PoolPinnedChartProps extends ChartProps {
  /** The cluster plan the VMs are built from (`planCluster(spec)`): its pools, their nodes and taints. */
  readonly plan: ClusterPlan;
  /** The worker pool whose nodes run the pods. @default - the first worker pool of the spec */
  readonly pool?: string;
  /** The Deployment's name. @default 'pool-pinned' */
  readonly name?: string;
  /** How many pods the Deployment controller keeps running. @default 2 */
  readonly replicas?: number;
  /** What the pods are: the Deployment's `matchLabels` (fixed once it exists), and labels of every pod. @default POOL_PINNED_SELECTOR */
  readonly selectorLabels?: Readonly<Record<string, string>>;
  /** The pods' other labels, free to change later; no key of `selectorLabels`. @default POOL_PINNED_EXTRA_LABELS */
  readonly extraPodLabels?: Readonly<Record<string, string>>;
  /** A pinned image reference. @default DEFAULT_WORKLOAD_IMAGE (agnhost serve-hostname) */
  readonly image?: string;
  /** Container arguments. @default DEFAULT_WORKLOAD_ARGS */
  readonly args?: readonly string[];
  /** Annotations on the Deployment and its pods. @default - owner, description and the pool's name */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Teaches keeping pods on chosen nodes: the pods' `nodeSelector` is the pool label of one worker pool
 * (`k8s-lab.io/pool=<name>`), which the same cluster plan gives the VMs' kubelets (`--node-labels`), so the
 * pool named in the spec is where the pods run. Taints of the pool are tolerated, so a dedicated (tainted)
 * pool admits these pods and no others.
 */
export class PoolPinnedChart extends Chart {
  /** The pinned Deployment. */
  readonly deployment: k8s.KubeDeployment;
  /** The worker pool the pods run on. */
  readonly pool: string;
  /** The node label the pods select: the pool's. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** The labels the Deployment's selector uses. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Every label of the pods: the selector's, then the others. */
  readonly podLabels: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: PoolPinnedChartProps) {
    super(scope, id, props);
    const pools = props.plan.spec.workerPools;
    const pool = props.pool ?? pools[0]?.name;
    if (pool === undefined) {
      throw new Error('PoolPinnedChart.pool: the cluster spec has no worker pools (workerPools is []), so there is no node to pin to; add a worker pool');
    }
    const placement = poolPlacement('PoolPinnedChart.pool', props.plan, pool);
    const name = props.name ?? 'pool-pinned';
    const replicas = checkReplicas('PoolPinnedChart.replicas', props.replicas ?? 2);
    const { selector, pod: labels } = checkWorkloadLabels(
      'PoolPinnedChart.selectorLabels',
      props.selectorLabels ?? POOL_PINNED_SELECTOR,
      'PoolPinnedChart.extraPodLabels',
      props.extraPodLabels ?? POOL_PINNED_EXTRA_LABELS,
    );
    const image = checkImage('PoolPinnedChart.image', props.image ?? DEFAULT_WORKLOAD_IMAGE);
    const annotations = checkAnnotations(
      'PoolPinnedChart.annotations',
      props.annotations ?? {
        'k8s-lab.io/owner': 'platform team <platform@example.invalid>',
        'k8s-lab.io/description': `Runs only on the nodes of worker pool "${pool}": its nodeSelector is the pool label those nodes register with, from the cluster spec.`,
        'k8s-lab.io/worker-pool': pool,
      },
    );
    this.pool = pool;
    this.nodeSelector = placement.nodeSelector;
    this.selectorLabels = selector;
    this.podLabels = labels;

    this.deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { name, labels, annotations },
      spec: {
        replicas,
        revisionHistoryLimit: 3,
        selector: { matchLabels: selector },
        template: hardenedPodTemplate({
          labels,
          annotations,
          containerName: 'server',
          image,
          args: props.args ?? DEFAULT_WORKLOAD_ARGS,
          nodeSelector: placement.nodeSelector,
          tolerations: placement.tolerations,
        }),
      },
    });
  }
}
