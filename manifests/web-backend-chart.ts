import { Chart, ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import { hardenedPodTemplate } from './private/hardened-pod-template';
import { checkAnnotations, checkImage, checkReplicas, checkWorkloadLabels } from './private/validate-props';
import { DEFAULT_WORKLOAD_ARGS, DEFAULT_WORKLOAD_IMAGE, WORKLOAD_PORT_NAME } from './workload-defaults';

/** What the web backend's pods are: its Deployment's and Service's selector. */
export const WEB_BACKEND_SELECTOR: Readonly<Record<string, string>> = { app: 'web', tier: 'backend' };

/** The web backend's pods' other labels: who owns them, which may change without touching a selector. */
export const WEB_BACKEND_EXTRA_LABELS: Readonly<Record<string, string>> = { team: 'storefront' };

/** Props of {@link WebBackendChart}. */
export interface WebBackendChartProps extends ChartProps {
  /** The Deployment's and Service's name. @default 'web' */
  readonly name?: string;
  /** How many pods the Deployment controller keeps running. @default 5 */
  readonly replicas?: number;
  /**
   * What the pods are: the Deployment's `matchLabels`, the Service's `selector`, and labels of every pod.
   * A Deployment's selector is fixed once it exists (the API server refuses a change), so it holds only
   * labels that stay true for the pods' whole life.
   * @default WEB_BACKEND_SELECTOR ({ app: web, tier: backend })
   */
  readonly selectorLabels?: Readonly<Record<string, string>>;
  /**
   * The pods' other labels, which no selector of this chart uses and which may change later (who owns
   * the pods). No key of `selectorLabels`. @default WEB_BACKEND_EXTRA_LABELS ({ team: storefront })
   */
  readonly extraPodLabels?: Readonly<Record<string, string>>;
  /** A pinned image reference. @default DEFAULT_WORKLOAD_IMAGE (agnhost serve-hostname) */
  readonly image?: string;
  /** Container arguments. @default DEFAULT_WORKLOAD_ARGS */
  readonly args?: readonly string[];
  /**
   * Annotations on the Deployment and its pods: information for people and tools that no
   * selector can match. @default - owner, description and runbook of the lab
   */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Teaches declarative state and the control loop: a Deployment that declares N replicas (5 by default), which
 * the Deployment and ReplicaSet controllers keep true (delete pods, new ones appear), and a
 * Service that finds those pods by label, never by name.
 *
 * Rendered with the `k8s` L1 objects so the YAML shows every label and selector explicitly.
 */
export class WebBackendChart extends Chart {
  /** The Deployment whose replica count the controllers keep. */
  readonly deployment: k8s.KubeDeployment;
  /** The Service selecting the Deployment's pods by their labels. */
  readonly service: k8s.KubeService;
  /** The labels both selectors use. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Every label of the pods: the selector's, then the others. */
  readonly podLabels: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: WebBackendChartProps = {}) {
    super(scope, id, props);
    const name = props.name ?? 'web';
    const replicas = checkReplicas('WebBackendChart.replicas', props.replicas ?? 5);
    const { selector, pod: labels } = checkWorkloadLabels(
      'WebBackendChart.selectorLabels',
      props.selectorLabels ?? WEB_BACKEND_SELECTOR,
      'WebBackendChart.extraPodLabels',
      props.extraPodLabels ?? WEB_BACKEND_EXTRA_LABELS,
    );
    const image = checkImage('WebBackendChart.image', props.image ?? DEFAULT_WORKLOAD_IMAGE);
    const annotations = checkAnnotations(
      'WebBackendChart.annotations',
      props.annotations ?? {
        'k8s-lab.io/owner': 'storefront team <storefront@example.invalid>',
        'k8s-lab.io/description': `Web backend: the Deployment controller keeps ${replicas} pods running; the Service finds them by label.`,
        'k8s-lab.io/runbook': 'scripts/demo-self-healing.sh deletes two pods and watches the count come back',
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
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(1), maxSurge: k8s.IntOrString.fromNumber(1) } },
        template: hardenedPodTemplate({ labels, annotations, containerName: 'web', image, args: props.args ?? DEFAULT_WORKLOAD_ARGS }),
      },
    });

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: { name, labels },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'http', port: 80, targetPort: k8s.IntOrString.fromString(WORKLOAD_PORT_NAME), protocol: 'TCP' }],
      },
    });
  }
}
