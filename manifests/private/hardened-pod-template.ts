import { k8s } from 'cdk8s-plus-33';
import {
  WORKLOAD_PORT,
  WORKLOAD_PORT_NAME,
  WORKLOAD_RUN_AS_USER,
  WORKLOAD_TERMINATION_GRACE_SECONDS,
} from '../workload-defaults';

/** What differs between the workloads' pods; everything else is the same hardened template. */
export interface HardenedPodTemplateOptions {
  /** The pod labels (also the Deployment's selector). */
  readonly labels: Readonly<Record<string, string>>;
  /** Pod annotations: metadata for people and tools, selecting nothing. */
  readonly annotations: Readonly<Record<string, string>>;
  /** Container name. */
  readonly containerName: string;
  /** Pinned image reference. */
  readonly image: string;
  /** Container arguments. */
  readonly args: readonly string[];
  /** Node labels the pods must run on. @default - any node */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** Taints the pods tolerate. @default - none */
  readonly tolerations?: readonly k8s.Toleration[];
}

/**
 * A pod template that starts under the restricted Pod Security Standard: non-root with a fixed
 * uid, no privilege escalation, every capability dropped, RuntimeDefault seccomp, read-only root
 * filesystem; with requests/limits and readiness/liveness probes on the named port.
 */
export function hardenedPodTemplate(o: HardenedPodTemplateOptions): k8s.PodTemplateSpec {
  const probe = (path: string, periodSeconds: number, failureThreshold: number): k8s.Probe => ({
    httpGet: { path, port: k8s.IntOrString.fromString(WORKLOAD_PORT_NAME) },
    periodSeconds,
    timeoutSeconds: 1,
    failureThreshold,
  });
  return {
    metadata: { labels: { ...o.labels }, annotations: { ...o.annotations } },
    spec: {
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: WORKLOAD_TERMINATION_GRACE_SECONDS,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: WORKLOAD_RUN_AS_USER,
        runAsGroup: WORKLOAD_RUN_AS_USER,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      ...(o.nodeSelector !== undefined ? { nodeSelector: { ...o.nodeSelector } } : {}),
      ...(o.tolerations !== undefined && o.tolerations.length > 0 ? { tolerations: [...o.tolerations] } : {}),
      containers: [
        {
          name: o.containerName,
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          args: [...o.args],
          ports: [{ name: WORKLOAD_PORT_NAME, containerPort: WORKLOAD_PORT, protocol: 'TCP' }],
          resources: {
            requests: { cpu: k8s.Quantity.fromString('25m'), memory: k8s.Quantity.fromString('32Mi') },
            limits: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('64Mi') },
          },
          // Ready: the Service may send it traffic. Live: the kubelet restarts it when this fails.
          readinessProbe: probe('/', 5, 3),
          livenessProbe: probe('/', 10, 3),
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
}
