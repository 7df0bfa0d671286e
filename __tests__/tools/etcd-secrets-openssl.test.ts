import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { loadOrCreateSecrets } from '../../bootstrap';
import { EtcdTopology } from '../../spec';
import { planOf } from '../fixtures/bootstrap-helpers';
import { requireTool, runTool } from '../support/tools';

// The etcd certificates the openssl issuer makes, checked by openssl itself: chain, usages, SANs.

let tmp: string;
beforeAll(() => {
  requireTool('openssl');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-openssl-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function openssl(args: string[], files: Record<string, string>): { status: number | null; output: string } {
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), content, { mode: 0o600 });
  return runTool('openssl', args, { cwd: tmp, timeoutMs: 30_000 });
}

const plan = planOf({ etcd: { topology: EtcdTopology.EXTERNAL } });

test('loadOrCreateSecrets with the real issuer: chains, usages and SANs as openssl reads them; kept on reuse', () => {
  const dir = path.join(tmp, 'secrets');
  const secrets = loadOrCreateSecrets('k8s-lab', dir, () => FAKE_SECRETS, { members: plan.etcdNodes });
  const etcd = secrets.etcd!;
  const m2 = etcd.members['k8s-lab-etcd-2'];
  const verify = openssl(['verify', '-CAfile', 'ca.crt', '-purpose', 'sslserver', 'server.crt'], { 'ca.crt': etcd.caCertPem, 'server.crt': m2.serverCertPem });
  expect(verify.output).toContain('server.crt: OK');
  expect(openssl(['verify', '-CAfile', 'ca.crt', '-purpose', 'sslclient', 'peer.crt'], { 'peer.crt': m2.peerCertPem }).output).toContain('peer.crt: OK');
  expect(openssl(['verify', '-CAfile', 'ca.crt', '-purpose', 'sslclient', 'client.crt'], { 'client.crt': etcd.apiserverClientCertPem }).output).toContain('client.crt: OK');
  const text = openssl(['x509', '-in', 'server.crt', '-noout', '-text'], {}).output;
  expect(text).toMatch(/DNS:k8s-lab-etcd-2, DNS:k8s-lab-etcd-2\.k8s\.lab, DNS:localhost, IP Address:192\.168\.150\.21, IP Address:127\.0\.0\.1/);
  expect(text).toMatch(/CA:FALSE/);
  expect(openssl(['x509', '-in', 'ca.crt', '-noout', '-subject'], {}).output).toMatch(/CN ?= ?etcd-ca/);
  // the client certificate is not a server certificate
  const asServer = openssl(['verify', '-CAfile', 'ca.crt', '-purpose', 'sslserver', 'client.crt'], {});
  expect(asServer.status).not.toBe(0);
  expect(asServer.output).toMatch(/unsuitable certificate purpose/);
  // reuse: same bytes
  const before = fs.readFileSync(path.join(dir, 'k8s-lab', 'secrets.json'));
  loadOrCreateSecrets('k8s-lab', dir, () => FAKE_SECRETS, { members: plan.etcdNodes });
  expect(fs.readFileSync(path.join(dir, 'k8s-lab', 'secrets.json')).equals(before)).toBe(true);
});

test('a member certificate does not verify against the cluster CA (the check can fail)', () => {
  const secrets = loadOrCreateSecrets('k8s-lab', path.join(tmp, 'secrets'), () => FAKE_SECRETS, { members: plan.etcdNodes });
  const r = openssl(['verify', '-CAfile', 'cluster-ca.crt', 'server.crt'], { 'cluster-ca.crt': FAKE_SECRETS.caCertPem, 'server.crt': secrets.etcd!.members['k8s-lab-etcd-1'].serverCertPem });
  expect(r.status).not.toBe(0);
  expect(r.output).toMatch(/unable to get local issuer certificate/);
});
