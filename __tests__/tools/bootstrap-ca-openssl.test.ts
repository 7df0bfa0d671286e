import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CA_VALIDITY_DAYS, ClusterSecrets, generateClusterSecrets, loadOrCreateSecrets } from '../../bootstrap';
import { requireTool } from '../support/tools';

// The real secret generation (openssl CLI for the CA), checked by openssl itself: the CA has what
// kubeadm needs, and caCertHash is what kubeadm's docs compute for --discovery-token-ca-cert-hash
// (openssl x509 -pubkey | openssl pkey -pubin -outform der | sha256).

function openssl(args: string[], input?: string | Buffer): { status: number | null; stdout: Buffer; stderr: string } {
  const run = spawnSync('openssl', args, { input, timeout: 60_000 });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr.toString() };
}

let dir: string;
let secrets: ClusterSecrets;
beforeAll(() => {
  requireTool('openssl');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-ca-'));
  secrets = loadOrCreateSecrets('lab', dir);
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the CA is a 10-year, self-signed CA:TRUE certificate for CN=kubernetes with the key usages kubeadm needs', () => {
  const text = openssl(['x509', '-noout', '-text'], secrets.caCertPem).stdout.toString();
  expect(text).toMatch(/Subject: CN ?= ?kubernetes/);
  expect(text).toMatch(/Issuer: CN ?= ?kubernetes/);
  expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE/);
  expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment, Certificate Sign/);
  expect(text).toMatch(/Public-Key: \(2048 bit\)/);
  const days = (Date.parse(/Not After : (.*)/.exec(text)![1]) - Date.parse(/Not Before: (.*)/.exec(text)![1])) / 86_400_000;
  expect(Math.round(days)).toBe(CA_VALIDITY_DAYS);
  // and it verifies against itself
  const certFile = path.join(dir, 'ca.crt');
  fs.writeFileSync(certFile, secrets.caCertPem);
  expect(openssl(['verify', '-CAfile', certFile, certFile]).status).toBe(0);
});

test('caCertHash is sha256 of the DER public key, as openssl computes it', () => {
  const pub = openssl(['x509', '-pubkey', '-noout'], secrets.caCertPem).stdout;
  const der = openssl(['pkey', '-pubin', '-outform', 'der'], pub).stdout;
  const digest = openssl(['dgst', '-sha256', '-hex'], der).stdout.toString();
  expect(secrets.caCertHash).toBe('sha256:' + /([0-9a-f]{64})/.exec(digest)![1]);
});

test('the key is the certificate\'s key', () => {
  const fromKey = openssl(['pkey', '-pubout'], secrets.caKeyPem).stdout.toString();
  const fromCert = openssl(['x509', '-pubkey', '-noout'], secrets.caCertPem).stdout.toString();
  expect(fromKey).toBe(fromCert);
});

test('a second call reuses the file; a new generation gives different secrets', () => {
  expect(loadOrCreateSecrets('lab', dir)).toEqual(secrets);
  const other = generateClusterSecrets();
  expect(other.caCertHash).not.toBe(secrets.caCertHash);
  expect(other.bootstrapToken).not.toBe(secrets.bootstrapToken);
  expect(other.certificateKey).not.toBe(secrets.certificateKey);
});
