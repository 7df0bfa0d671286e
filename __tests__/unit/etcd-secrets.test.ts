import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CertificateIssuer,
  ClusterSecrets,
  ETCD_APISERVER_CLIENT_COMMON_NAME,
  EtcdMemberIdentity,
  ensureEtcdSecrets,
  loadOrCreateSecrets,
  memberSecretsMatch,
  parseClusterSecrets,
  requireEtcdSecrets,
} from '../../bootstrap';
import { EtcdTopology } from '../../spec';
import { planOf } from '../fixtures/bootstrap-helpers';
import fakeAdmin from '../fixtures/fake-admin-client.json';
import fakeEtcdJson from '../fixtures/fake-etcd-secrets.json';
import { FAKE_ETCD_SECRETS, FAKE_SECRETS, FAKE_SECRETS_WITH_ETCD } from '../fixtures/fake-secrets';
import fakeJson from '../fixtures/fake-secrets.json';

// The issuer is injected and hands out the committed fake etcd set, so this tier runs no openssl;
// the openssl issuer itself is checked with openssl in __tests__/tools/etcd-secrets-openssl.test.ts.

const members = planOf({ etcd: { topology: EtcdTopology.EXTERNAL } }).etcdNodes;

/** An issuer that returns the fake set's pairs by common name and records what it was asked. */
function fixtureIssuer() {
  const calls: string[] = [];
  const issuer: CertificateIssuer = {
    newCa: (cn) => {
      calls.push(`ca:${cn}`);
      return { certPem: FAKE_ETCD_SECRETS.caCertPem, keyPem: FAKE_ETCD_SECRETS.caKeyPem };
    },
    issue: (_ca, request) => {
      calls.push(request.commonName);
      if (request.commonName === ETCD_APISERVER_CLIENT_COMMON_NAME) return { certPem: FAKE_ETCD_SECRETS.apiserverClientCertPem, keyPem: FAKE_ETCD_SECRETS.apiserverClientKeyPem };
      const m = FAKE_ETCD_SECRETS.members[request.commonName];
      if (m === undefined) throw new Error(`fixture issuer: no fake pair for ${request.commonName}`);
      // A member's first pair is its server pair, the second its peer pair (ensureEtcdSecrets' order).
      const second = calls.filter((c) => c === request.commonName).length % 2 === 0;
      return second ? { certPem: m.peerCertPem, keyPem: m.peerKeyPem } : { certPem: m.serverCertPem, keyPem: m.serverKeyPem };
    },
  };
  return { calls, issuer };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-etcd-secrets-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
const file = () => path.join(dir, 'k8s-lab', 'secrets.json');
const stacked = () => FAKE_SECRETS;

describe('ensureEtcdSecrets', () => {
  test('with nothing stored: one CA, one API server client pair, a server and a peer pair per member', () => {
    const { calls, issuer } = fixtureIssuer();
    const { secrets, changed } = ensureEtcdSecrets(undefined, members, issuer);
    expect(changed).toBe(true);
    expect(secrets).toEqual(FAKE_ETCD_SECRETS);
    expect(calls).toEqual(['ca:etcd-ca', 'kube-apiserver-etcd-client', ...members.flatMap((m) => [m.hostname, m.hostname])]);
    expect(Object.keys(secrets.members)).toEqual(['k8s-lab-etcd-1', 'k8s-lab-etcd-2', 'k8s-lab-etcd-3']);
  });

  test('with everything stored: makes nothing and returns the same secrets', () => {
    const { calls, issuer } = fixtureIssuer();
    const { secrets, changed } = ensureEtcdSecrets(FAKE_ETCD_SECRETS, members, issuer);
    expect(changed).toBe(false);
    expect(calls).toEqual([]);
    expect(secrets).toEqual(FAKE_ETCD_SECRETS);
  });

  test('a member added later gets only its own pairs; the CA, the client pair and the other members are kept', () => {
    // GIVEN secrets for the first two members
    const { ['k8s-lab-etcd-3']: _third, ...twoMembers } = FAKE_ETCD_SECRETS.members;
    const stored = { ...FAKE_ETCD_SECRETS, members: twoMembers };
    const { calls, issuer } = fixtureIssuer();
    // WHEN a third member is asked for
    const { secrets, changed } = ensureEtcdSecrets(stored, members, issuer);
    // THEN only its server and peer pairs are issued
    expect(changed).toBe(true);
    expect(calls).toEqual(['k8s-lab-etcd-3', 'k8s-lab-etcd-3']);
    expect(secrets.members['k8s-lab-etcd-1']).toBe(stored.members['k8s-lab-etcd-1']);
    expect(secrets.caCertPem).toBe(FAKE_ETCD_SECRETS.caCertPem);
  });

  test('a member whose certificates name another address (network.cidr changed) gets new pairs', () => {
    const moved: EtcdMemberIdentity = { ...members[0], ip: '10.9.9.9' };
    expect(memberSecretsMatch(FAKE_ETCD_SECRETS.members[moved.hostname], moved)).toBe(false);
    const { calls, issuer } = fixtureIssuer();
    expect(ensureEtcdSecrets(FAKE_ETCD_SECRETS, [moved], issuer).changed).toBe(true);
    expect(calls).toEqual([moved.hostname, moved.hostname]);
  });

  test('the fake set names its members exactly: hostname, FQDN, IP, localhost, 127.0.0.1', () => {
    for (const m of members) expect(memberSecretsMatch(FAKE_ETCD_SECRETS.members[m.hostname], m)).toBe(true);
  });

  test('fails when two members share a hostname', () => {
    expect(() => ensureEtcdSecrets(undefined, [members[0], members[0]], fixtureIssuer().issuer)).toThrow(/etcd members must have unique hostnames, got k8s-lab-etcd-1 twice/);
  });
});

describe('parseClusterSecrets with etcd', () => {
  const doc = { ...fakeJson, etcd: { caCertPem: fakeEtcdJson.caCertPem, caKeyPem: fakeEtcdJson.caKeyPem, apiserverClientCertPem: fakeEtcdJson.apiserverClientCertPem, apiserverClientKeyPem: fakeEtcdJson.apiserverClientKeyPem, members: fakeEtcdJson.members } };

  test('accepts the fake set, and a file without etcd stays valid (no etcd field)', () => {
    expect(parseClusterSecrets(doc, 'f.json')).toEqual(FAKE_SECRETS_WITH_ETCD);
    expect(parseClusterSecrets(fakeJson, 'f.json')).not.toHaveProperty('etcd');
  });

  const m1 = fakeEtcdJson.members['k8s-lab-etcd-1'];
  const m2 = fakeEtcdJson.members['k8s-lab-etcd-2'];
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown etcd field', { extra: 'x' }, /f\.json: etcd\.extra is not a known field/],
    ['the CA key of another certificate', { caKeyPem: m1.serverKeyPem }, /etcd\.caKeyPem does not belong to etcd\.caCertPem/],
    ['a leaf as the CA', { caCertPem: m1.serverCertPem }, /etcd\.caCertPem is not a CA certificate/],
    ['a CA certificate (the cluster CA) as the API server\'s etcd client certificate', { apiserverClientCertPem: fakeJson.caCertPem }, /etcd\.apiserverClientCertPem is a CA certificate/],
    ['a member key that is not its certificate\'s', { members: { ...fakeEtcdJson.members, 'k8s-lab-etcd-1': { ...m1, peerKeyPem: m2.peerKeyPem } } }, /etcd\.members\.k8s-lab-etcd-1\.peerKeyPem does not belong to etcd\.members\.k8s-lab-etcd-1\.peerCertPem/],
    ['the client certificate as a member server certificate (no serverAuth)', { members: { 'k8s-lab-etcd-1': { ...m1, serverCertPem: fakeEtcdJson.apiserverClientCertPem, serverKeyPem: fakeEtcdJson.apiserverClientKeyPem } } }, /etcd\.members\.k8s-lab-etcd-1\.serverCertPem lacks the extended key usage serverAuth/],
    ['a member without its peer key', { members: { 'k8s-lab-etcd-1': { ...m1, peerKeyPem: undefined } } }, /etcd\.members\.k8s-lab-etcd-1\.peerKeyPem is missing or not a string/],
  ])('fails on %s', (_what, change, message) => {
    expect(() => parseClusterSecrets({ ...doc, etcd: { ...doc.etcd, ...change } }, 'f.json')).toThrow(message);
  });

  test('fails on a certificate not signed by the etcd CA, naming the field, and never shows a key', () => {
    // GIVEN a leaf pair signed by the cluster CA, not by the etcd CA
    const other = { ...doc.etcd, apiserverClientCertPem: fakeAdmin.certPem, apiserverClientKeyPem: fakeAdmin.keyPem };
    // WHEN the secrets are parsed THEN the signature check names the field and shows no key
    const parse = () => parseClusterSecrets({ ...doc, etcd: other }, 'f.json');
    expect(parse).toThrow(/etcd\.apiserverClientCertPem is not signed by etcd\.caCertPem/);
    expect(parse).toThrow(expect.objectContaining({ message: expect.not.stringContaining('PRIVATE KEY') }));
  });

  test('fails on a CA certificate where a leaf belongs, naming the field', () => {
    // the cluster CA's own key and certificate are a valid pair, but a CA
    const other = { ...doc.etcd, apiserverClientCertPem: fakeJson.caCertPem, apiserverClientKeyPem: fakeJson.caKeyPem };
    expect(() => parseClusterSecrets({ ...doc, etcd: other }, 'f.json')).toThrow(/etcd\.apiserverClientCertPem is a CA certificate; it must be a leaf/);
  });
});

describe('requireEtcdSecrets', () => {
  test('fails naming the call that makes them when there are none', () => {
    expect(() => requireEtcdSecrets(undefined, members)).toThrow(/secrets\.etcd is missing, but etcd\.topology is external: .*loadOrCreateSecrets\(name, dir, undefined, \{ members: plan\.etcdNodes \}\)/);
  });
  test('fails for a member it has no certificates for', () => {
    const more = planOf({ etcd: { topology: EtcdTopology.EXTERNAL, count: 5 } }).etcdNodes;
    expect(() => requireEtcdSecrets(FAKE_ETCD_SECRETS, more)).toThrow(/secrets\.etcd\.members has no certificates for k8s-lab-etcd-4 \(have: k8s-lab-etcd-1, k8s-lab-etcd-2, k8s-lab-etcd-3\)/);
  });
  test('fails for a member whose certificates name another address', () => {
    const moved = planOf({ etcd: { topology: EtcdTopology.EXTERNAL }, network: { cidr: '10.20.0.0/24' } }).etcdNodes;
    expect(() => requireEtcdSecrets(FAKE_ETCD_SECRETS, moved)).toThrow(/secrets\.etcd\.members\.k8s-lab-etcd-1: its certificates do not name k8s-lab-etcd-1\.k8s\.lab \/ 10\.20\.0\.20/);
  });
});

describe('loadOrCreateSecrets with external etcd members', () => {
  test('stacked (no members): the secrets file of a stacked cluster is never touched, byte for byte', () => {
    loadOrCreateSecrets('k8s-lab', dir, stacked);
    const before = fs.readFileSync(file());
    const mtime = fs.statSync(file()).mtimeMs;
    const { issuer, calls } = fixtureIssuer();
    const again = loadOrCreateSecrets('k8s-lab', dir, stacked, { members: [], issuer });
    expect(fs.readFileSync(file()).equals(before)).toBe(true);
    expect(fs.statSync(file()).mtimeMs).toBe(mtime);
    expect(again).not.toHaveProperty('etcd');
    expect(calls).toEqual([]);
  });

  test('external on an existing stacked file: adds the etcd set, keeps every other secret, mode 0600', () => {
    loadOrCreateSecrets('k8s-lab', dir, stacked);
    const { issuer } = fixtureIssuer();
    const secrets = loadOrCreateSecrets('k8s-lab', dir, stacked, { members, issuer });
    expect(secrets).toEqual(FAKE_SECRETS_WITH_ETCD);
    expect(fs.statSync(file()).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(fs.readFileSync(file(), 'utf8')) as ClusterSecrets;
    expect(stored.bootstrapToken).toBe(FAKE_SECRETS.bootstrapToken);
    expect(Object.keys(stored.etcd!.members)).toEqual(members.map((m) => m.hostname));
    expect(fs.readdirSync(path.dirname(file())).sort()).toEqual(['.gitignore', 'secrets.json']);
  });

  test('reused afterwards: same bytes, nothing issued', () => {
    loadOrCreateSecrets('k8s-lab', dir, stacked, { members, issuer: fixtureIssuer().issuer });
    const before = fs.readFileSync(file());
    const { issuer, calls } = fixtureIssuer();
    expect(loadOrCreateSecrets('k8s-lab', dir, stacked, { members, issuer })).toEqual(FAKE_SECRETS_WITH_ETCD);
    expect(fs.readFileSync(file()).equals(before)).toBe(true);
    expect(calls).toEqual([]);
  });

  test('fails, and leaves the file alone, when the stored etcd set is broken', () => {
    loadOrCreateSecrets('k8s-lab', dir, stacked, { members, issuer: fixtureIssuer().issuer });
    const doc = JSON.parse(fs.readFileSync(file(), 'utf8'));
    doc.etcd.caKeyPem = fakeJson.caKeyPem;
    fs.writeFileSync(file(), JSON.stringify(doc));
    const before = fs.readFileSync(file());
    expect(() => loadOrCreateSecrets('k8s-lab', dir, stacked, { members, issuer: fixtureIssuer().issuer })).toThrow(/secrets\.json: etcd\.caKeyPem does not belong to etcd\.caCertPem/);
    expect(fs.readFileSync(file()).equals(before)).toBe(true);
  });
});
