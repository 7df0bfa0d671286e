import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CertificateIssuer, EtcdMemberIdentity, EtcdSecrets, ensureEtcdSecrets, parseEtcdSecrets } from './etcd-secrets';

/**
 * The per-cluster secrets the bootstrap needs. Generated once per cluster by `loadOrCreateSecrets`,
 * kept outside git in `.secrets/<cluster>/secrets.json` (directory 0700, file 0600) and reused on
 * every synth, so the output is byte-identical. Lifetimes: see README "Secrets and their lifetime".
 */
export interface ClusterSecrets {
  /** kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`. */
  readonly bootstrapToken: string;
  /** Key that encrypts the control-plane certificates kubeadm uploads (64 hex characters). */
  readonly certificateKey: string;
  /** The cluster CA certificate, PEM. */
  readonly caCertPem: string;
  /** The cluster CA private key, PEM. */
  readonly caKeyPem: string;
  /** `sha256:<hex>` of the CA's public key (DER SubjectPublicKeyInfo), as joins pin it (`caCertHashes`). */
  readonly caCertHash: string;
  /**
   * The external etcd's CA and certificates (etcd-secrets.ts). Only for spec.etcd.topology external;
   * absent for stacked etcd, whose certificates kubeadm makes on the control planes.
   * @default - none
   */
  readonly etcd?: EtcdSecrets;
}

/** The directory `loadOrCreateSecrets` keeps clusters' secrets in, relative to the working directory. */
export const DEFAULT_SECRETS_DIR = '.secrets';
/** The environment variable that moves the secrets directory (the tests and the deploy tier use it). */
export const SECRETS_DIR_ENV = 'K8S_LAB_SECRETS_DIR';

/** The secrets directory every command uses: K8S_LAB_SECRETS_DIR, else DEFAULT_SECRETS_DIR, as an absolute path. */
export function secretsDirOf(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env[SECRETS_DIR_ENV] || DEFAULT_SECRETS_DIR);
}

/** The file name inside `<dir>/<cluster name>/`. */
export const SECRETS_FILE = 'secrets.json';
/** The CA's validity. */
export const CA_VALIDITY_DAYS = 3650;
/** The CA's subject common name (kubeadm's own CA uses the same). */
export const CA_COMMON_NAME = 'kubernetes';

/** A secrets file that cannot be used; the message names the file and the field, never a secret value. */
export class ClusterSecretsError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`${file}: ${field} ${problem}`);
    this.name = 'ClusterSecretsError';
  }
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A kubeadm bootstrap token from the system's CSPRNG. */
export function generateBootstrapToken(): string {
  const pick = (n: number) => Array.from({ length: n }, () => TOKEN_ALPHABET[crypto.randomInt(TOKEN_ALPHABET.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

/** `sha256:<hex>` of a certificate's DER SubjectPublicKeyInfo: what `kubeadm join --discovery-token-ca-cert-hash` pins. */
export function caCertHashOf(caCertPem: string): string {
  const spki = new crypto.X509Certificate(caCertPem).publicKey.export({ type: 'spki', format: 'der' });
  return 'sha256:' + crypto.createHash('sha256').update(spki).digest('hex');
}

/**
 * A new, self-signed cluster CA: RSA 2048 (kubeadm's own default), CN=kubernetes, 10 years,
 * basicConstraints critical CA:TRUE, keyUsage critical keyCertSign/digitalSignature/keyEncipherment.
 * The key is made by Node's crypto; the certificate by the `openssl` CLI (Node cannot sign X.509),
 * reading the key from a private temporary directory that is removed afterwards.
 */
export function generateCa(): { caCertPem: string; caKeyPem: string } {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const caKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-ca-'));
  try {
    const keyFile = path.join(tmp, 'ca.key');
    fs.writeFileSync(keyFile, caKeyPem, { mode: 0o600 });
    let caCertPem: string;
    try {
      caCertPem = execFileSync(
        'openssl',
        [
          'req', '-x509', '-new', '-key', keyFile, '-sha256', '-days', String(CA_VALIDITY_DAYS),
          '-subj', `/CN=${CA_COMMON_NAME}`,
          '-addext', 'basicConstraints=critical,CA:TRUE',
          '-addext', 'keyUsage=critical,keyCertSign,digitalSignature,keyEncipherment',
          '-addext', 'subjectKeyIdentifier=hash',
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      if (err.code === 'ENOENT') throw new Error("generating the cluster CA needs the 'openssl' command, which is not installed (Debian/Ubuntu: apt-get install openssl; or npm run tools)");
      throw new Error(`openssl req failed while generating the cluster CA: ${String(err.stderr ?? err.message).trim()}`);
    }
    return { caCertPem, caKeyPem };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** A complete, new secret set. */
export function generateClusterSecrets(): ClusterSecrets {
  const { caCertPem, caKeyPem } = generateCa();
  return {
    bootstrapToken: generateBootstrapToken(),
    certificateKey: crypto.randomBytes(32).toString('hex'),
    caCertPem,
    caKeyPem,
    caCertHash: caCertHashOf(caCertPem),
  };
}

const FIELDS = ['bootstrapToken', 'certificateKey', 'caCertPem', 'caKeyPem', 'caCertHash'] as const;
/** Optional fields: files written before they existed stay valid. */
const OPTIONAL_FIELDS = ['etcd'] as const;

/**
 * Checks a parsed secrets document and returns it as ClusterSecrets. Pure (no file access).
 * Checks formats, that the certificate is a CA, that the key belongs to it and that the hash is
 * the certificate's. Unknown fields other than `_comment` are errors.
 * @param source names the file in messages.
 * @throws ClusterSecretsError naming the field (never its value).
 */
export function parseClusterSecrets(doc: unknown, source: string): ClusterSecrets {
  const fail = (field: string, problem: string): never => {
    throw new ClusterSecretsError(source, field, problem);
  };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail('(top level)', `must be a JSON object with fields ${FIELDS.join(', ')}`);
  const o = doc as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== '_comment' && !([...FIELDS, ...OPTIONAL_FIELDS] as readonly string[]).includes(key)) fail(key, `is not a known field (allowed: ${[...FIELDS, ...OPTIONAL_FIELDS].join(', ')})`);
  }
  const str = (field: (typeof FIELDS)[number]): string => {
    const v = o[field];
    if (typeof v !== 'string') return fail(field, `is missing or not a string (got ${v === undefined ? 'nothing' : typeof v})`);
    return v;
  };
  const bootstrapToken = str('bootstrapToken');
  if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(bootstrapToken)) fail('bootstrapToken', `must match [a-z0-9]{6}.[a-z0-9]{16} (got ${bootstrapToken.length} characters, not shown)`);
  const certificateKey = str('certificateKey');
  if (!/^[0-9a-f]{64}$/.test(certificateKey)) fail('certificateKey', `must be 64 lowercase hex digits (got ${certificateKey.length} characters, not shown)`);

  const caCertPem = str('caCertPem');
  let cert: crypto.X509Certificate | undefined;
  try {
    cert = new crypto.X509Certificate(caCertPem);
  } catch {
    fail('caCertPem', 'is not a PEM X.509 certificate');
  }
  if (!cert!.ca) fail('caCertPem', 'is not a CA certificate (basicConstraints CA:TRUE is missing)');

  const caKeyPem = str('caKeyPem');
  let key: crypto.KeyObject | undefined;
  try {
    key = crypto.createPrivateKey(caKeyPem);
  } catch {
    fail('caKeyPem', 'is not a PEM private key');
  }
  if (!cert!.checkPrivateKey(key!)) fail('caKeyPem', 'does not belong to caCertPem (the public keys differ)');

  const caCertHash = str('caCertHash');
  if (!/^sha256:[0-9a-f]{64}$/.test(caCertHash)) fail('caCertHash', `must be sha256:<64 lowercase hex digits>, got ${JSON.stringify(caCertHash)}`);
  const actual = caCertHashOf(caCertPem);
  if (caCertHash !== actual) fail('caCertHash', `is ${caCertHash} but caCertPem's public key hashes to ${actual}`);

  const etcd = o.etcd === undefined ? undefined : parseEtcdSecrets(o.etcd, fail);
  return { bootstrapToken, certificateKey, caCertPem, caKeyPem, caCertHash, ...(etcd !== undefined ? { etcd } : {}) };
}

/** What `loadOrCreateSecrets` must hold for an external etcd. */
export interface ExternalEtcdSecretsOptions {
  /**
   * The external etcd members (plan.etcdNodes). Empty (stacked etcd): no etcd material is made and
   * the file is left exactly as it is.
   */
  readonly members: readonly EtcdMemberIdentity[];
  /** Makes the etcd CA and certificates. @default OPENSSL_ISSUER (the openssl CLI; tests pass fakes) */
  readonly issuer?: CertificateIssuer;
}

/**
 * The cluster's secrets: read from `<dir>/<clusterName>/secrets.json` when it exists (and
 * validated), else generated once and written there (directory 0700, file 0600, written to a
 * temporary file then renamed, so a crash never leaves half a file). Synchronous: main.ts calls it
 * during synth.
 *
 * External etcd (`etcd.members` not empty): the etcd CA, the API server's etcd client pair and each
 * member's pairs are made once, like the rest, and kept in the same file; a member added later gets
 * only its own pairs, the others are kept (see ensureEtcdSecrets). The file is rewritten (same
 * atomic rename) only when something was added. With no members the file is never touched.
 * @param generate makes a new set when there is no file. @default generateClusterSecrets (tests pass fakes)
 * @param etcd the external etcd members. @default - none (stacked etcd)
 * @throws ClusterSecretsError for a file that exists but is not valid — it is never overwritten.
 */
export function loadOrCreateSecrets(
  clusterName: string,
  dir: string = DEFAULT_SECRETS_DIR,
  generate: () => ClusterSecrets = generateClusterSecrets,
  etcd: ExternalEtcdSecretsOptions = { members: [] },
): ClusterSecrets {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(clusterName)) {
    throw new Error(`clusterName must be a DNS-1123 label (the spec's name), got ${JSON.stringify(clusterName)}`);
  }
  for (const folder of [dir, path.join(dir, clusterName)]) {
    if (fs.existsSync(folder) && !fs.statSync(folder).isDirectory()) {
      throw new Error(`the secrets folder ${folder} is a file; ${SECRETS_DIR_ENV} names the folder the secrets go in (default ${DEFAULT_SECRETS_DIR})`);
    }
  }
  const clusterDir = path.join(dir, clusterName);
  const file = path.join(clusterDir, SECRETS_FILE);
  let secrets: ClusterSecrets;
  let write: boolean;
  if (fs.existsSync(file)) {
    ignoreInGit(clusterDir);
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ClusterSecretsError(file, '(file)', `is not valid JSON (${jsonErrorWithoutText(e as Error)}); fix it, or delete it to make new secrets (a running cluster then no longer matches)`);
    }
    secrets = parseClusterSecrets(doc, file);
    write = false;
  } else {
    secrets = parseClusterSecrets(generate(), 'the generated secrets');
    write = true;
  }
  if (etcd.members.length > 0) {
    const ensured = ensureEtcdSecrets(secrets.etcd, etcd.members, etcd.issuer);
    if (ensured.changed) {
      secrets = parseClusterSecrets({ ...secrets, etcd: ensured.secrets }, 'the generated etcd secrets');
      write = true;
    }
  }
  if (!write) return secrets;
  fs.mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(clusterDir, 0o700);
  ignoreInGit(clusterDir);
  const tmp = path.join(clusterDir, `.${SECRETS_FILE}.${process.pid}.tmp`);
  const doc = { _comment: `Secrets of cluster ${clusterName}, made by k8s-lab. Never commit. Deleting this file makes new ones on the next synth.`, ...secrets };
  fs.writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
  return secrets;
}

/**
 * A JSON.parse error without the text it quotes: node's "Unexpected token" message quotes the token and an
 * excerpt (`Unexpected token 'q', ..."apToken": q8hq"... is not valid JSON`), which here would be part of a
 * secret. Its other messages name only JSON's syntax and a position, and are kept whole.
 */
function jsonErrorWithoutText(e: Error): string {
  return /^Unexpected token\b/.test(e.message) ? 'Unexpected token: a character JSON does not allow there' : e.message;
}

/**
 * A `.gitignore` of everything in the cluster's secrets folder, so git ignores it wherever K8S_LAB_SECRETS_DIR puts
 * it, also inside a work tree whose own .gitignore does not name it (the default, .secrets/, is named there too).
 * Written once; a folder that cannot take it (read-only) is left as it is.
 */
function ignoreInGit(clusterDir: string): void {
  const ignore = path.join(clusterDir, '.gitignore');
  if (fs.existsSync(ignore)) return;
  try {
    fs.writeFileSync(ignore, '# k8s-lab: secrets, never in git\n*\n', { mode: 0o600 });
  } catch {
    // read-only: nothing to do here
  }
}
