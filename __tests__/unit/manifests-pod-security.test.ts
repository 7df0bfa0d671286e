import { Testing } from 'cdk8s';
import { addWorkloadCharts } from '../../manifests';
import { parseClusterSpec, planCluster } from '../../spec';

// Every workload's pods must start under the restricted Pod Security Standard.

type Manifest = { kind: string; metadata: { name: string }; spec: any };

const deployments = (): Manifest[] => {
  const charts = addWorkloadCharts(Testing.app(), { plan: planCluster(parseClusterSpec({}).spec) });
  return Object.values(charts).flatMap((c) => Testing.synth(c) as Manifest[]).filter((m) => m.kind === 'Deployment');
};

describe.each(deployments().map((d) => [d.metadata.name, d] as const))('Deployment %s', (_name, d) => {
  const pod = d.spec.template.spec;

  test('runs as a fixed non-root user with RuntimeDefault seccomp', () => {
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  test('every container: no privilege escalation, read-only root, all capabilities dropped', () => {
    expect(pod.containers.length).toBeGreaterThan(0);
    for (const c of pod.containers) {
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    }
  });

  test('every container: pinned image, requests and limits, readiness and liveness probes', () => {
    expect(pod.containers.length).toBeGreaterThan(0);
    for (const c of pod.containers) {
      expect(c.image).toMatch(/:[0-9][^:/]*$|@sha256:/);
      expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
      expect(Object.keys(c.resources.limits).sort()).toEqual(['cpu', 'memory']);
      expect(c.readinessProbe).toBeDefined();
      expect(c.livenessProbe).toBeDefined();
    }
  });
});
