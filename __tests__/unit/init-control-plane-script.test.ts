import * as fs from 'fs';
import * as path from 'path';
import { INIT_ATTEMPTS, KUBEADM_CONFIG_PATH, bakedCniManifest } from '../../bootstrap';
import { Cni } from '../../spec';
import { planOf, userDataText } from '../fixtures/bootstrap-helpers';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { FakeNode, FakeNodeInput, stepNodeInput } from '../support/fake-node';

// The rendered init-control-plane step, run for real by bash against a fake node (__tests__/support/fake-node.ts:
// a private mount namespace with a fake /etc, /opt and /home, stub commands on PATH that record their calls,
// `sleep` returning at once). The prebaked flannel path, so the CNI manifest comes from the fake /opt, not the
// network. The end-to-end tier runs the step under the real cloud-init.

const plan = planOf({ image: { prebaked: true }, kubernetes: { cni: Cni.FLANNEL } });
const INIT_STEP = '/usr/local/sbin/k8s-lab-init-control-plane.sh';
const INIT = `kubeadm init --config ${KUBEADM_CONFIG_PATH} --upload-certs --skip-token-print --skip-certificate-key-print`;
// The CNI goes to the node's own API server (its address and port), not admin.conf's load balancer.
const APPLY_CNI = `kubectl --server https://${plan.controlPlanes[0].ip}:6443 apply --server-side --force-conflicts -k /etc/k8s-lab/cni`;

const nodes: FakeNode[] = [];
/** Runs the first control plane's init step once on a new fake node that has the baked flannel manifest. */
function initStep(overrides: Partial<FakeNodeInput> = {}) {
  const node = new FakeNode({ ...stepNodeInput(userDataText(plan, plan.controlPlanes[0]), INIT_STEP), optFiles: { [bakedCniManifest(Cni.FLANNEL)]: 'kind: List\n' }, ...overrides });
  nodes.push(node);
  return { run: node.run(), home: path.join(node.dir, 'home') };
}
afterAll(() => nodes.forEach((n) => n.remove()));

describe('init-control-plane, run against a fake node', () => {
  test('a cluster already initialised (admin.conf exists) is not initialised again; the CNI and the operator kubeconfig are brought up to date', () => {
    // GIVEN a first control plane an earlier run initialised
    const { run, home } = initStep({ etcFiles: { '/etc/kubernetes/admin.conf': 'the admin kubeconfig\n' } });
    // THEN no kubeadm at all, the CNI applied, ubuntu's kubeconfig a 0600 copy of admin.conf
    expect(run.stdout).toContain('kubeadm init: already done (/etc/kubernetes/admin.conf exists)');
    expect({ status: run.status, calls: run.calls }).toEqual({ status: 0, calls: [APPLY_CNI] });
    const operator = path.join(home, 'ubuntu', '.kube', 'config');
    expect(fs.readFileSync(operator, 'utf8')).toBe('the admin kubeconfig\n');
    expect(fs.statSync(operator).mode & 0o777).toBe(0o600);
  });

  test(`gives up after ${INIT_ATTEMPTS} failed inits, with kubeadm reset -f and a 30 s wait between two, and exits 1 saying where to look`, () => {
    // GIVEN a kubeadm init that always fails
    const { run } = initStep({ failingCalls: { 'kubeadm init': 'always' } });
    // THEN exactly INIT_ATTEMPTS inits, a reset and a wait between two, then exit 1 before the CNI
    const inits = Array.from({ length: INIT_ATTEMPTS }, (_, i) => (i === 0 ? [INIT] : ['kubeadm reset -f', 'sleep 30', INIT])).flat();
    expect({ status: run.status, calls: run.calls }).toEqual({ status: 1, calls: inits });
    expect(run.stderr).toContain(`kubeadm init failed ${INIT_ATTEMPTS} times; giving up (journalctl -u kubelet, crictl ps -a)`);
  });

  test('installs the cluster CA where kubeadm looks for it (key 0600) before each attempt, so a reset in between cannot lose it', () => {
    // GIVEN an init that fails once, and a reset that deletes /etc/kubernetes/pki, as kubeadm reset does
    const { run } = initStep({
      failingCalls: { 'kubeadm init': 1, 'kubectl apply': 'always' },
      // kubeadm init, like the real one given no CA, fails when none is there
      stubEffects: { kubeadm: ['[[ "$1" == reset ]] && rm -rf /etc/kubernetes/pki', '[[ "$1" == init && ! -f /etc/kubernetes/pki/ca.key ]] && { echo "no CA" >&2; exit 3; }'] },
    });
    // THEN the second attempt found the cluster's CA again, its key owner-only (the run then stops at the CNI)
    const pki = path.join(run.etcDir, 'kubernetes', 'pki');
    expect(fs.readFileSync(path.join(pki, 'ca.crt'), 'utf8')).toBe(FAKE_SECRETS.caCertPem);
    expect(fs.readFileSync(path.join(pki, 'ca.key'), 'utf8')).toBe(FAKE_SECRETS.caKeyPem);
    expect(fs.statSync(path.join(pki, 'ca.key')).mode & 0o777).toBe(0o600);
    // AND the second init found it: it succeeded, and the step went on to the CNI
    expect(run.calls.slice(0, 5)).toEqual([INIT, 'kubeadm reset -f', 'sleep 30', INIT, APPLY_CNI]);
    expect(run.stderr).not.toContain('no CA');
  });
});
