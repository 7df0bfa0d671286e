import { spawn } from 'child_process';
import { FailoverLab, loseAControlPlane } from '../../host/control-plane-failover';
import { HAPROXY_BACKEND } from '../../bootstrap';
import { parseClusterSpec, planCluster } from '../../spec';

// host/control-plane-failover.ts runs for real in the end-to-end tier (container nodes) and in
// `npm run demo:lose-a-master`. Here: what it promises whatever the lab — it refuses a cluster it
// cannot fail over, and it starts the stopped control plane again when a later step fails.

function fakeLab(controlPlanes: number, events: string[], createFails: boolean): FailoverLab {
  const plan = planCluster(parseClusterSpec({ controlPlane: { count: controlPlanes } }).spec);
  return {
    plan,
    stopVerb: 'fake stop',
    kubectl: async (args) => {
      events.push(`kubectl ${args[0]}`);
      if (args.includes('exec')) return { status: 0, stdout: JSON.stringify(plan.controlPlanes.map((c, i) => ({ endpoint: `https://${c.ip}:2379`, health: i > 0 }))), stderr: '' };
      if (args[0] === 'create' && createFails) return { status: 1, stdout: '', stderr: 'admission webhook said no' };
      return { status: 0, stdout: '', stderr: '' };
    },
    execOnNode: async () => ({ status: 0, stdout: `${Date.now() / 1000} lb haproxy[1]: Server ${HAPROXY_BACKEND}/${plan.controlPlanes[0].hostname} is DOWN\n`, stderr: '' }),
    stopNode: async (node) => void events.push(`stop ${node.hostname}`),
    startNode: async (node) => void events.push(`start ${node.hostname}`),
    spawn: () => spawn('bash', ['-c', 'echo "$(date +%s%3N) 200"']),
  };
}

describe('loseAControlPlane', () => {
  test('fails when the cluster has a single control plane, before stopping anything', async () => {
    const events: string[] = [];
    await expect(loseAControlPlane(fakeLab(1, events, false), { image: 'agnhost' })).rejects.toThrow(/needs at least 2 of them; k8s-lab plans 1/);
    expect(events).toEqual([]);
  });

  test('starts the stopped control plane again when a later step fails (here: creating the Deployment)', async () => {
    // GIVEN a lab whose API refuses the new Deployment
    const events: string[] = [];
    // WHEN the failover runs THEN it throws with the API's answer, and the last thing it did was start k8s-lab-cp-1 again
    await expect(loseAControlPlane(fakeLab(3, events, true), { image: 'agnhost' })).rejects.toThrow(/kubectl create deployment after-losing-a-control-plane exited 1: admission webhook said no/);
    expect(events.filter((e) => e.startsWith('stop') || e.startsWith('start'))).toEqual(['stop k8s-lab-cp-1', 'start k8s-lab-cp-1']);
    expect(events[events.length - 1]).toBe('start k8s-lab-cp-1');
  }, 30_000);
});
