import { spawn } from 'child_process';
import { FailoverLab, loseAControlPlane } from '../../host/control-plane-failover';
import { HAPROXY_BACKEND } from '../../bootstrap';
import { parseClusterSpec, planCluster } from '../../spec';

// host/control-plane-failover.ts runs for real in the end-to-end tier (container nodes) and in
// `npm run demo:lose-a-master`. Here: what it promises whatever the lab — it refuses a cluster it
// cannot fail over, it starts the stopped control plane again when a later step fails, and its report
// says when its request loop measured nothing after detection.

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

/**
 * A lab in which the whole failover succeeds: the control plane is stopped and started, HAProxy's journal says DOWN
 * while it is stopped and UP after, etcd has every member healthy once it is back, the Node is Ready with a fresh
 * Lease. `loop` is the request loop's bash script (the real loop's line format: `SENT_MS HTTP_CODE`).
 */
function healthyLab(loop: string): FailoverLab {
  const plan = planCluster(parseClusterSpec({}).spec);
  let stopped = false;
  const journalLine = (state: string) => `${Date.now() / 1000} lb haproxy[1]: Server ${HAPROXY_BACKEND}/${plan.controlPlanes[0].hostname} is ${state}\n`;
  return {
    plan,
    stopVerb: 'fake stop',
    kubectl: async (args) => {
      if (args.includes('exec')) return { status: 0, stdout: JSON.stringify(plan.controlPlanes.map((c, i) => ({ endpoint: `https://${c.ip}:2379`, health: !stopped || i > 0 }))), stderr: '' };
      if (args[0] === 'get' && args[1] === 'node') return { status: 0, stdout: 'True', stderr: '' };
      if (args[0] === 'get' && args[1] === 'lease') return { status: 0, stdout: new Date(Date.now() + 2_000).toISOString(), stderr: '' };
      return { status: 0, stdout: '', stderr: '' };
    },
    execOnNode: async () => ({ status: 0, stdout: journalLine(stopped ? 'DOWN' : 'UP'), stderr: '' }),
    stopNode: async () => void (stopped = true),
    startNode: async () => void (stopped = false),
    spawn: () => spawn('bash', ['-c', loop]),
  };
}

test('the report counts the requests after detection, and says whether the request loop still ran at the end of the loss', async () => {
  // GIVEN two labs: one whose request loop keeps going, one whose loop sent a single request and ended
  const steady = 'while :; do echo "$(date +%s%3N) 200"; sleep 0.2; done';
  const once = 'echo "$(date +%s%3N) 200"';
  // WHEN each loses a control plane
  const [kept, ended] = await Promise.all([loseAControlPlane(healthyLab(steady), { image: 'agnhost' }), loseAControlPlane(healthyLab(once), { image: 'agnhost' })]);
  // THEN the first measured the loss to its end; the second measured nothing after detection, and says so
  expect({ after: kept.requestsAfterDetection > 0, covered: kept.requestsCoveredTheLoss, failed: kept.failedAfterDetection }).toEqual({ after: true, covered: true, failed: 0 });
  expect({ after: ended.requestsAfterDetection, covered: ended.requestsCoveredTheLoss, failed: ended.failedAfterDetection }).toEqual({ after: 0, covered: false, failed: 0 });
  expect(ended.summary).toContain('0 of 0 after; the requests ended before the loss did');
}, 60_000);
