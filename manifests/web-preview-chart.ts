import { Chart, ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { hardenedPodTemplate } from './private/hardened-pod-template';
import { checkAnnotations, checkImage, checkReplicas, checkWorkloadLabels } from './private/validate-props';
import { DEFAULT_WORKLOAD_ARGS, DEFAULT_WORKLOAD_IMAGE } from './workload-defaults';

/**
 * What the preview pods are: `app: web` like the web backend, but `tier: preview`, so the web Service
 * (which needs `tier: backend` too) does not select them. Their Deployment's selector.
 */
export const WEB_PREVIEW_SELECTOR: Readonly<Record<string, string>> = { app: 'web', tier: 'preview' };

/** The preview pods' other labels: the same team as the web backend's. */
export const WEB_PREVIEW_EXTRA_LABELS: Readonly<Record<string, string>> = { team: 'storefront' };

/** Props of {@link WebPreviewChart}. */
export interface WebPreviewChartProps extends ChartProps {
  /** The Deployment's name. @default 'web-preview' */
  readonly name?: string;
  /** How many pods the Deployment controller keeps running. @default 1 */
  readonly replicas?: number;
  /** What the pods are: the Deployment's `matchLabels` (fixed once it exists), and labels of every pod. @default WEB_PREVIEW_SELECTOR */
  readonly selectorLabels?: Readonly<Record<string, string>>;
  /** The pods' other labels, free to change later; no key of `selectorLabels`. @default WEB_PREVIEW_EXTRA_LABELS */
  readonly extraPodLabels?: Readonly<Record<string, string>>;
  /** A pinned image reference. @default DEFAULT_WORKLOAD_IMAGE (agnhost serve-hostname) */
  readonly image?: string;
  /** Container arguments. @default DEFAULT_WORKLOAD_ARGS */
  readonly args?: readonly string[];
  /** Annotations on the Deployment and its pods. @default - owner and description */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Teaches grouping by labels, by contrast: a Deployment whose pods share `app` and `team` with
 * the web backend but not `tier`. `kubectl get pods -l app=web` lists both groups;
 * `-l app=web,tier=backend` (the web Service's selector) lists only the backend: a selector is
 * the AND of its labels, and names play no part.
 */
export class WebPreviewChart extends Chart {
  /** The preview Deployment. */
  readonly deployment: k8s.KubeDeployment;
  /** The labels the Deployment's selector uses. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Every label of the pods: the selector's, then the others. */
  readonly podLabels: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: WebPreviewChartProps = {}) {
    super(scope, id, props);
    const name = props.name ?? 'web-preview';
    const replicas = checkReplicas('WebPreviewChart.replicas', props.replicas ?? 1);
    const { selector, pod: labels } = checkWorkloadLabels(
      'WebPreviewChart.selectorLabels',
      props.selectorLabels ?? WEB_PREVIEW_SELECTOR,
      'WebPreviewChart.extraPodLabels',
      props.extraPodLabels ?? WEB_PREVIEW_EXTRA_LABELS,
    );
    const image = checkImage('WebPreviewChart.image', props.image ?? DEFAULT_WORKLOAD_IMAGE);
    const annotations = checkAnnotations(
      'WebPreviewChart.annotations',
      props.annotations ?? {
        'k8s-lab.io/owner': 'storefront team <storefront@example.invalid>',
        'k8s-lab.io/description': 'Preview of the next web backend: same app and team labels, tier=preview, so the web Service does not send it traffic.',
      },
    );
    this.selectorLabels = selector;
    this.podLabels = labels;

    this.deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { name, labels, annotations },
      spec: {
        replicas,
        revisionHistoryLimit: 3,
        selector: { matchLabels: selector },
        template: hardenedPodTemplate({ labels, annotations, containerName: 'web', image, args: props.args ?? DEFAULT_WORKLOAD_ARGS }),
      },
    });
  }
}
