import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface CertificatePair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What a leaf certificate is for: TLS server, TLS client, or both. */
export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

/** A leaf certificate to issue. */
export interface CertificateRequest {
  /** Subject CN. */
  readonly commonName: string;
  /**
   * Subject O entries, in order: Kubernetes reads them as the client's groups (kubeadm's admin.conf
   * has O=kubeadm:cluster-admins). @default []
   */
  readonly organizations?: readonly string[];
  /** Extended key usages; at least one. */
  readonly usages: readonly ExtendedKeyUsage[];
  /** DNS subject alternative names. @default [] */
  readonly dnsNames?: readonly string[];
  /** IPv4 subject alternative names. @default [] */
  readonly ipAddresses?: readonly string[];
  /** Validity from now. */
  readonly days: number;
}

/** Makes CAs and signs leaf certificates. The real one runs the openssl CLI; unit tests pass fakes. */
export interface CertificateIssuer {
  /** A new self-signed CA. */
  newCa(commonName: string, days: number): CertificatePair;
  /** A new key and a certificate for it, signed by `ca`. */
  issue(ca: CertificatePair, request: CertificateRequest): CertificatePair;
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$/;
/** A subject O: letters, digits, '-', '.', ':' (Kubernetes group names such as kubeadm:cluster-admins). */
const ORGANIZATION = /^[A-Za-z0-9]([-A-Za-z0-9.:]*[A-Za-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Checks every value that goes into an openssl argument or extension file: names and IPs only. */
function checkRequest(request: CertificateRequest): void {
  if (!NAME.test(request.commonName)) throw new Error(`certificate commonName must be letters, digits, '-' and '.', got ${JSON.stringify(request.commonName)}`);
  for (const o of request.organizations ?? []) if (!ORGANIZATION.test(o)) throw new Error(`certificate ${request.commonName}: organizations entry must be letters, digits, '-', '.' and ':', got ${JSON.stringify(o)}`);
  if (request.usages.length === 0) throw new Error(`certificate ${request.commonName}: usages must name at least one of serverAuth, clientAuth`);
  for (const dns of request.dnsNames ?? []) if (!NAME.test(dns)) throw new Error(`certificate ${request.commonName}: dnsNames entry must be a DNS name, got ${JSON.stringify(dns)}`);
  for (const ip of request.ipAddresses ?? []) if (!IPV4.test(ip)) throw new Error(`certificate ${request.commonName}: ipAddresses entry must be an IPv4 address, got ${JSON.stringify(ip)}`);
  if (!Number.isInteger(request.days) || request.days < 1) throw new Error(`certificate ${request.commonName}: days must be a positive integer, got ${request.days}`);
}

function newKeyPem(): string {
  // RSA 2048: kubeadm's default for every certificate it makes.
  return crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Runs openssl; a missing CLI or a failure becomes an error that says which and what openssl said. */
function openssl(args: readonly string[], what: string): string {
  try {
    return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error(`${what} needs the 'openssl' command, which is not installed (Debian/Ubuntu: apt-get install openssl; or npm run tools)`);
    throw new Error(`openssl ${args[0]} failed while ${what}: ${String(err.stderr ?? err.message).trim()}`);
  }
}

/** Runs `f` with a private temporary directory (0700) that is removed afterwards: keys never outlive it. */
function withTempDir<T>(f: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-pki-'));
  try {
    return f(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A random positive 127-bit serial, as openssl's -set_serial reads it. */
function randomSerial(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] &= 0x7f;
  return '0x' + bytes.toString('hex');
}

/**
 * The openssl CLI issuer: keys from Node's crypto (RSA 2048), certificates from `openssl req -x509`
 * (CA) and `openssl req -new` + `openssl x509 -req` (leaves: CA:FALSE, digitalSignature +
 * keyEncipherment, the requested extended key usages, SANs and subject O entries, a random serial, SHA-256).
 */
export const OPENSSL_ISSUER: CertificateIssuer = {
  newCa(commonName, days) {
    if (!NAME.test(commonName)) throw new Error(`CA commonName must be letters, digits, '-' and '.', got ${JSON.stringify(commonName)}`);
    const keyPem = newKeyPem();
    const certPem = withTempDir((dir) => {
      const keyFile = path.join(dir, 'ca.key');
      fs.writeFileSync(keyFile, keyPem, { mode: 0o600 });
      return openssl(
        [
          'req', '-x509', '-new', '-key', keyFile, '-sha256', '-days', String(days), '-subj', `/CN=${commonName}`,
          '-addext', 'basicConstraints=critical,CA:TRUE',
          '-addext', 'keyUsage=critical,keyCertSign,digitalSignature,keyEncipherment',
          '-addext', 'subjectKeyIdentifier=hash',
        ],
        `generating the ${commonName} CA`,
      );
    });
    return { certPem, keyPem };
  },

  issue(ca, request) {
    checkRequest(request);
    const keyPem = newKeyPem();
    const sans = [...(request.dnsNames ?? []).map((d) => `DNS:${d}`), ...(request.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
    const extensions = [
      '[leaf]',
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage = ${request.usages.join(',')}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      ...(sans.length > 0 ? [`subjectAltName = ${sans.join(',')}`] : []),
    ];
    const certPem = withTempDir((dir) => {
      const file = (name: string, content: string) => {
        const p = path.join(dir, name);
        fs.writeFileSync(p, content, { mode: 0o600 });
        return p;
      };
      const keyFile = file('leaf.key', keyPem);
      const caCert = file('ca.crt', ca.certPem);
      const caKey = file('ca.key', ca.keyPem);
      const extFile = file('leaf.ext', extensions.join('\n') + '\n');
      const csr = path.join(dir, 'leaf.csr');
      const what = `issuing the certificate ${request.commonName}`;
      const subject = [...(request.organizations ?? []).map((o) => `/O=${o}`), `/CN=${request.commonName}`].join('');
      openssl(['req', '-new', '-key', keyFile, '-subj', subject, '-out', csr], what);
      return openssl(
        ['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-set_serial', randomSerial(), '-days', String(request.days), '-sha256', '-extfile', extFile, '-extensions', 'leaf'],
        what,
      );
    });
    return { certPem, keyPem };
  },
};
