import * as fs from 'fs';
import { JOIN_ATTEMPTS, JOIN_RETRY_SECONDS, KUBEADM_CONFIG_PATH } from '../../bootstrap';
import { planOf, userDataText } from '../fixtures/bootstrap-helpers';
import { FakeNode, FakeNodeInput, stepNodeInput } from '../support/fake-node';

// The rendered join-node step, run for real by bash against a fake node (__tests__/support/fake-node.ts: a private
// mount namespace with a fake /etc, stub commands on PATH that record their calls, `sleep` returning at once).
// What the unit tests of the rendered text only read, the script does here: it leaves a joined node alone, waits
// for the API, and retries a failed join a bounded number of times with a reset between. (The wait's 20-minute
// deadline is real time: the text test covers it. The end-to-end tier runs the step under the real cloud-init.)

const plan = planOf();
const JOIN_NODE = '/usr/local/sbin/k8s-lab-join-node.sh';
const JOIN = `kubeadm join --config ${KUBEADM_CONFIG_PATH}`;
const READYZ = `curl -fsk --max-time 5 -o /dev/null https://${plan.apiEndpoint.fqdn}:${plan.apiEndpoint.port}/readyz`;
const RESET_AND_WAIT = ['kubeadm reset -f', `sleep ${JOIN_RETRY_SECONDS}`];

const nodes: FakeNode[] = [];
/** Runs the worker's join step once on a new fake node. */
function joinStep(overrides: Partial<FakeNodeInput> = {}) {
  const node = new FakeNode({ ...stepNodeInput(userDataText(plan, plan.workers[0]), JOIN_NODE), ...overrides });
  nodes.push(node);
  return node.run();
}
afterAll(() => nodes.forEach((n) => n.remove()));

describe('join-node, run against a fake node', () => {
  test('a node that has joined (kubelet.conf exists) is left alone: exit 0, no curl, no kubeadm', () => {
    // GIVEN a node an earlier run joined  WHEN the step runs again
    const r = joinStep({ etcFiles: { '/etc/kubernetes/kubelet.conf': 'joined\n' } });
    // THEN
    expect(r.stdout).toContain('kubeadm join: already done (/etc/kubernetes/kubelet.conf exists)');
    expect({ status: r.status, calls: r.calls }).toEqual({ status: 0, calls: [] });
  });

  test('a new node asks the API through the load balancer, then joins once', () => {
    const r = joinStep();
    expect({ status: r.status, calls: r.calls }).toEqual({ status: 0, calls: [READYZ, JOIN] });
  });

  test('while the API does not answer it asks again every 10 s, and joins once it answers', () => {
    // GIVEN an API that answers on the third ask
    const r = joinStep({ failingCalls: { curl: 2 } });
    expect({ status: r.status, calls: r.calls }).toEqual({ status: 0, calls: [READYZ, 'sleep 10', READYZ, 'sleep 10', READYZ, JOIN] });
  });

  test('a join that fails once is reset, tried again after the wait, and the step succeeds', () => {
    const r = joinStep({ failingCalls: { 'kubeadm join': 1 } });
    expect({ status: r.status, calls: r.calls }).toEqual({ status: 0, calls: [READYZ, JOIN, ...RESET_AND_WAIT, JOIN] });
  });

  test(`gives up after ${JOIN_ATTEMPTS} failed joins, with a reset and a ${JOIN_RETRY_SECONDS} s wait between two, and exits 1 saying so`, () => {
    // GIVEN a join that always fails
    const r = joinStep({ failingCalls: { 'kubeadm join': 'always' } });
    // THEN exactly JOIN_ATTEMPTS joins, a reset and a wait between two, then exit 1
    const joins = Array.from({ length: JOIN_ATTEMPTS }, (_, i) => (i === 0 ? [JOIN] : [...RESET_AND_WAIT, JOIN])).flat();
    expect({ status: r.status, calls: r.calls }).toEqual({ status: 1, calls: [READYZ, ...joins] });
    expect(r.stderr).toContain(`kubeadm join failed ${JOIN_ATTEMPTS} times; giving up`);
  });

  test('the fake node itself: a stub effect writing to /var lands in a throw-away tmpfs, and /usr is read-only', () => {
    const probe = `/var/k8s-lab-fake-node-probe-${process.pid}`;
    const r = joinStep({ stubEffects: { curl: [`touch ${probe} && echo var-written >&2`, 'touch /usr/k8s-lab-fake-node-probe 2>/dev/null && echo usr-writable >&2 || true'] } });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('var-written');
    expect(r.stderr).not.toContain('usr-writable');
    expect(fs.existsSync(probe)).toBe(false);
    expect(fs.existsSync('/usr/k8s-lab-fake-node-probe')).toBe(false);
  });

  test('the fake node itself: an effect for a command it does not stub is refused, naming the stubs', () => {
    expect(() => joinStep({ stubEffects: { dig: ['exit 3'] } })).toThrow(/stubEffects: "dig" is no command this fake node stubs \(it stubs .*curl.*kubeadm.*sleep/);
  });
});
