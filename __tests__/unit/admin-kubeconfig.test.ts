import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import {
  ADMIN_CLIENT_FILE,
  ADMIN_COMMON_NAME,
  ADMIN_GROUP,
  CertificateIssuer,
  CertificateRequest,
  adminClientProblem,
  adminKubeconfig,
  adminKubeconfigServer,
  kubeadmInitDocuments,
  kubeconfigPathOf,
  kubeconfigPathProblem,
  loadOrIssueAdminClient,
  renderAdminKubeconfig,
  writeAdminKubeconfig,
} from '../../bootstrap';
import { nodeOf, planOf } from '../fixtures/bootstrap-helpers';
import fakeAdmin from '../fixtures/fake-admin-client.json';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { fileMode as mode } from '../support/output-tree';

// The openssl issuer is injected as a fake that hands out the committed fake admin pair (signed by
// the fake CA), so this tier runs no openssl; the real issuance is checked with openssl, kubeadm and
// kubectl in __tests__/tools/admin-kubeconfig.test.ts.

const FAKE_ADMIN = { certPem: fakeAdmin.certPem, keyPem: fakeAdmin.keyPem };
const NOW = new Date('2026-12-03T00:00:00Z');

function fakeIssuer() {
  const requests: CertificateRequest[] = [];
  const issuer: CertificateIssuer = {
    newCa: () => {
      throw new Error('no CA is made for the admin certificate');
    },
    issue: (ca, request) => {
      expect(ca).toEqual({ certPem: FAKE_SECRETS.caCertPem, keyPem: FAKE_SECRETS.caKeyPem });
      requests.push(request);
      return FAKE_ADMIN;
    },
  };
  return { issuer, requests };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-admin-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the admin kubeconfig', () => {
  test('its server is the load balancer IP (no DNS), and that IP is in the API server certSANs of the init config', () => {
    // GIVEN the default plan
    const plan = planOf({});
    // WHEN
    const server = adminKubeconfigServer(plan);
    // THEN
    expect(server).toBe('https://192.168.150.5:6443');
    const sans = kubeadmInitDocuments(plan, nodeOf(plan, 'cp-1'), FAKE_SECRETS)[1].apiServer.certSANs;
    expect(sans).toContain('192.168.150.5');
  });

  test('with two load balancers its server is the virtual IP, which is in the certSANs', () => {
    const plan = planOf({ loadBalancer: { count: 2, virtualIp: '192.168.150.2' } });
    expect(adminKubeconfigServer(plan)).toBe('https://192.168.150.2:6443');
    expect(kubeadmInitDocuments(plan, nodeOf(plan, 'cp-1'), FAKE_SECRETS)[1].apiServer.certSANs).toContain('192.168.150.2');
  });

  test('holds the cluster CA, the client pair and one context named after the cluster', () => {
    const plan = planOf({ name: 'lab2' });
    const doc = YAML.parse(renderAdminKubeconfig(plan, FAKE_SECRETS.caCertPem, FAKE_ADMIN));
    expect(doc).toEqual(adminKubeconfig(plan, FAKE_SECRETS.caCertPem, FAKE_ADMIN));
    expect(doc['current-context']).toBe('lab2-admin@lab2');
    expect(doc.contexts).toEqual([{ name: 'lab2-admin@lab2', context: { cluster: 'lab2', user: 'lab2-admin' } }]);
    const decode = (s: string) => Buffer.from(s, 'base64').toString('utf8');
    expect(decode(doc.clusters[0].cluster['certificate-authority-data'])).toBe(FAKE_SECRETS.caCertPem);
    expect(decode(doc.users[0].user['client-certificate-data'])).toBe(FAKE_ADMIN.certPem);
    expect(decode(doc.users[0].user['client-key-data'])).toBe(FAKE_ADMIN.keyPem);
  });

  test('is written beside the secrets directory as <cluster>.kubeconfig, or where K8S_LAB_KUBECONFIG says', () => {
    expect(kubeconfigPathOf('k8s-lab', '/repo/.secrets', {})).toBe('/repo/k8s-lab.kubeconfig');
    expect(kubeconfigPathOf('k8s-lab', '/repo/.secrets', { K8S_LAB_KUBECONFIG: '/tmp/x.conf' })).toBe('/tmp/x.conf');
  });

  test('a path it cannot be written at is named before synth writes anything: a folder, or a file where a folder is needed', () => {
    // GIVEN a folder and a file in it
    const root = fs.mkdtempSync(path.join(dir, 'path-'));
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, '');
    // THEN a new file in a folder, even one still to create, is fine
    expect(kubeconfigPathProblem(path.join(root, 'k.kubeconfig'), {})).toBeUndefined();
    expect(kubeconfigPathProblem(path.join(root, 'new', 'deeper', 'k.kubeconfig'), {})).toBeUndefined();
    // AND a folder, or a path below a file, is refused, naming the variable when it set the path
    expect(kubeconfigPathProblem(root, {})).toBe(`the kubeconfig path ${root}, which is a folder`);
    expect(kubeconfigPathProblem(path.join(file, 'x', 'k.kubeconfig'), { K8S_LAB_KUBECONFIG: 'given' })).toBe(
      `K8S_LAB_KUBECONFIG must name the kubeconfig file to write, got 'given', but '${file}' is a file, where a folder is needed`,
    );
  });
});

describe('the admin client certificate', () => {
  test('is asked of the issuer as kubeadm makes admin.conf: CN kubernetes-admin, O kubeadm:cluster-admins, clientAuth, 365 days', () => {
    const { issuer, requests } = fakeIssuer();
    loadOrIssueAdminClient('k8s-lab', dir, FAKE_SECRETS, { issuer, now: NOW });
    expect(requests).toEqual([{ commonName: ADMIN_COMMON_NAME, organizations: [ADMIN_GROUP], usages: ['clientAuth'], days: 365 }]);
    expect(ADMIN_GROUP).toBe('kubeadm:cluster-admins');
  });

  test('is stored 0600 in a 0700 folder and reused: a second synth issues nothing and writes the same kubeconfig', () => {
    // GIVEN a first synth
    const { issuer, requests } = fakeIssuer();
    const plan = planOf({});
    const file = path.join(dir, 'k8s-lab.kubeconfig');
    writeAdminKubeconfig(plan, FAKE_SECRETS, path.join(dir, '.secrets'), file, { issuer, now: NOW });
    const first = fs.readFileSync(file, 'utf8');
    // WHEN a second synth runs
    writeAdminKubeconfig(plan, FAKE_SECRETS, path.join(dir, '.secrets'), file, { issuer, now: NOW });
    // THEN
    expect(requests).toHaveLength(1);
    expect(fs.readFileSync(file, 'utf8')).toBe(first);
    expect(mode(file)).toBe('0600');
    expect(mode(path.join(dir, '.secrets', 'k8s-lab', ADMIN_CLIENT_FILE))).toBe('0600');
    expect(mode(path.join(dir, '.secrets', 'k8s-lab'))).toBe('0700');
  });

  test('a kubeconfig left 0644 by hand is made 0600 again on the next synth', () => {
    const { issuer } = fakeIssuer();
    const file = path.join(dir, 'k8s-lab.kubeconfig');
    writeAdminKubeconfig(planOf({}), FAKE_SECRETS, dir, file, { issuer, now: NOW });
    fs.chmodSync(file, 0o644);
    writeAdminKubeconfig(planOf({}), FAKE_SECRETS, dir, file, { issuer, now: NOW });
    expect(mode(file)).toBe('0600');
  });

  test('the fake pair is usable: signed by the CA, with the group, long before renewal', () => {
    expect(adminClientProblem(FAKE_ADMIN, FAKE_SECRETS.caCertPem, NOW)).toBeUndefined();
  });

  test('fails when it is due for renewal: fewer than 30 days left', () => {
    const validTo = Date.parse(new crypto.X509Certificate(FAKE_ADMIN.certPem).validTo);
    expect(adminClientProblem(FAKE_ADMIN, FAKE_SECRETS.caCertPem, new Date(validTo - 29 * 86_400_000))).toMatch(/fewer than 30 days left/);
    expect(adminClientProblem(FAKE_ADMIN, FAKE_SECRETS.caCertPem, new Date(validTo - 31 * 86_400_000))).toBeUndefined();
  });

  test('fails when another CA signed it, the key is not its own, the group is missing, or it is no pair at all', () => {
    const otherCa = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'fake-etcd-secrets.json'), 'utf8');
    const etcd = JSON.parse(otherCa) as { caCertPem: string; apiserverClientCertPem: string; apiserverClientKeyPem: string };
    expect(adminClientProblem(FAKE_ADMIN, etcd.caCertPem, NOW)).toMatch(/not signed by the current cluster CA/);
    expect(adminClientProblem({ certPem: FAKE_ADMIN.certPem, keyPem: FAKE_SECRETS.caKeyPem }, FAKE_SECRETS.caCertPem, NOW)).toMatch(/key that does not belong/);
    expect(adminClientProblem({ certPem: etcd.apiserverClientCertPem, keyPem: etcd.apiserverClientKeyPem }, etcd.caCertPem, NOW)).toMatch(/lacks O=kubeadm:cluster-admins/);
    expect(adminClientProblem({ certPem: 'x' }, FAKE_SECRETS.caCertPem, NOW)).toMatch(/lacks certPem or keyPem/);
    expect(adminClientProblem('x', FAKE_SECRETS.caCertPem, NOW)).toMatch(/not a JSON object/);
  });

  test('a stored pair that is no longer usable is replaced, saying why', () => {
    // GIVEN a stored pair signed by another CA (the cluster's secrets were made anew)
    fs.mkdirSync(path.join(dir, 'k8s-lab'));
    fs.writeFileSync(path.join(dir, 'k8s-lab', ADMIN_CLIENT_FILE), JSON.stringify({ certPem: FAKE_ADMIN.certPem, keyPem: FAKE_ADMIN.keyPem }));
    const etcdCa = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'fake-etcd-secrets.json'), 'utf8')) as { caCertPem: string }).caCertPem;
    const reasons: string[] = [];
    const issuer: CertificateIssuer = { newCa: () => FAKE_ADMIN, issue: () => FAKE_ADMIN };
    // WHEN
    loadOrIssueAdminClient('k8s-lab', dir, { ...FAKE_SECRETS, caCertPem: etcdCa }, { issuer, now: NOW, onReissue: (r) => reasons.push(r) });
    // THEN
    expect(reasons).toEqual([expect.stringMatching(/admin-client\.json was not signed by the current cluster CA: issuing a new admin certificate$/)]);
  });
});
