import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ClusterPlan } from '../spec';
import { CertificateIssuer, CertificatePair, OPENSSL_ISSUER } from './private/openssl-issuer';
import { ClusterSecrets } from './secrets';

/**
 * The cluster's admin kubeconfig, made on the host with the cluster CA the project already
 * generates (secrets.ts), the way kubeadm makes `admin.conf`: a client certificate with
 * CN=kubernetes-admin and O=kubeadm:cluster-admins, the group `kubeadm init` binds to the
 * cluster-admin ClusterRole (ClusterRoleBinding `kubeadm:cluster-admins`). Not `system:masters`:
 * kubeadm keeps that group, which no RBAC rule can take away, for `super-admin.conf`.
 *
 * No SSH is needed: the kubeconfig is written on every synth, and its server is the load balancer's
 * IP (or the virtual IP with two load balancers), which the host reaches without DNS and which is in
 * the API server certificate's SANs (kubeadm-config.ts apiServerCertSans).
 */

/** The admin certificate's subject CN (kubeadm's admin.conf uses the same). */
export const ADMIN_COMMON_NAME = 'kubernetes-admin';
/** The admin certificate's subject O: the group kubeadm binds to cluster-admin. */
export const ADMIN_GROUP = 'kubeadm:cluster-admins';
/**
 * The admin certificate's validity: one year, as kubeadm's own admin.conf. A synth re-issues it
 * once fewer than ADMIN_RENEW_BEFORE_DAYS remain (or when the CA changed), so it never expires
 * under a cluster that is still synthesized now and then; a leaked copy stops working within a year.
 */
export const ADMIN_CERT_VALIDITY_DAYS = 365;
/** A synth re-issues the admin certificate when fewer days than this remain. */
export const ADMIN_RENEW_BEFORE_DAYS = 30;
/** The file in `<secrets dir>/<cluster>/` that keeps the admin client pair between synths (0600). */
export const ADMIN_CLIENT_FILE = 'admin-client.json';
/** The environment variable that names the kubeconfig file to write (tests and the deploy tier move it). */
export const KUBECONFIG_PATH_ENV = 'K8S_LAB_KUBECONFIG';

/** The API server URL the admin kubeconfig uses: the load balancer's (or virtual) IP, no DNS needed. */
export function adminKubeconfigServer(plan: ClusterPlan): string {
  return `https://${plan.apiEndpoint.ip}:${plan.apiEndpoint.port}`;
}

/**
 * Where synth writes the cluster's kubeconfig: K8S_LAB_KUBECONFIG when set, else
 * `<cluster>.kubeconfig` beside the secrets directory (so the repository root by default, where
 * `*.kubeconfig` is git-ignored; a test or tier that moves its secrets moves its kubeconfig too).
 */
export function kubeconfigPathOf(clusterName: string, secretsDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[KUBECONFIG_PATH_ENV];
  return fromEnv ? path.resolve(fromEnv) : path.join(path.dirname(path.resolve(secretsDir)), `${clusterName}.kubeconfig`);
}

/**
 * Why the kubeconfig cannot be written at `file` (`kubeconfigPathOf`'s answer), or undefined: it must not be a
 * folder, and its nearest existing ancestor must be one (synth creates the folders below it). Asked before synth
 * writes anything, so a bad K8S_LAB_KUBECONFIG stops it with nothing half-written.
 */
export function kubeconfigPathProblem(file: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const what = env[KUBECONFIG_PATH_ENV] ? `${KUBECONFIG_PATH_ENV} must name the kubeconfig file to write, got '${env[KUBECONFIG_PATH_ENV]}'` : `the kubeconfig path ${file}`;
  // A path below a file is no entry either (stat says ENOTDIR, which throwIfNoEntry does not cover).
  const stat = (p: string): fs.Stats | undefined => {
    try {
      return fs.statSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw e;
    }
  };
  if (stat(file)?.isDirectory()) return `${what}, which is a folder`;
  let ancestor = path.dirname(file);
  while (stat(ancestor) === undefined && path.dirname(ancestor) !== ancestor) ancestor = path.dirname(ancestor);
  if (!stat(ancestor)?.isDirectory()) return `${what}, but '${ancestor}' is a file, where a folder is needed`;
  return undefined;
}

/** A kubeconfig (`kind: Config`, v1) with one cluster, one user and one context. */
export interface Kubeconfig {
  readonly apiVersion: 'v1';
  readonly kind: 'Config';
  readonly clusters: readonly { readonly name: string; readonly cluster: { readonly server: string; readonly 'certificate-authority-data': string } }[];
  readonly users: readonly { readonly name: string; readonly user: { readonly 'client-certificate-data': string; readonly 'client-key-data': string } }[];
  readonly contexts: readonly { readonly name: string; readonly context: { readonly cluster: string; readonly user: string } }[];
  readonly 'current-context': string;
  readonly preferences: Record<string, never>;
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

/**
 * The admin kubeconfig as an object. Names carry the cluster's name (cluster `<name>`, user
 * `<name>-admin`, context `<name>-admin@<name>`) so that several clusters' files merge in KUBECONFIG.
 */
export function adminKubeconfig(plan: ClusterPlan, caCertPem: string, client: CertificatePair): Kubeconfig {
  const cluster = plan.spec.name;
  const user = `${cluster}-admin`;
  const context = `${user}@${cluster}`;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: adminKubeconfigServer(plan), 'certificate-authority-data': b64(caCertPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(client.certPem), 'client-key-data': b64(client.keyPem) } }],
    contexts: [{ name: context, context: { cluster, user } }],
    'current-context': context,
    preferences: {},
  };
}

/** The admin kubeconfig's file text (YAML). */
export function renderAdminKubeconfig(plan: ClusterPlan, caCertPem: string, client: CertificatePair): string {
  return YAML.stringify(adminKubeconfig(plan, caCertPem, client), { lineWidth: 0 });
}

/**
 * Why a stored admin client pair cannot be used any more, or undefined when it can: it must be a
 * certificate and key that belong together, signed by the cluster CA, with O=kubeadm:cluster-admins,
 * and valid for at least ADMIN_RENEW_BEFORE_DAYS more days at `now`. Pure (Node's crypto only).
 */
export function adminClientProblem(client: unknown, caCertPem: string, now: Date): string | undefined {
  if (client === null || typeof client !== 'object') return 'is not a JSON object with certPem and keyPem';
  const { certPem, keyPem } = client as Record<string, unknown>;
  if (typeof certPem !== 'string' || typeof keyPem !== 'string') return 'lacks certPem or keyPem';
  let cert: crypto.X509Certificate;
  let key: crypto.KeyObject;
  try {
    cert = new crypto.X509Certificate(certPem);
    key = crypto.createPrivateKey(keyPem);
  } catch {
    return 'holds no PEM certificate or key';
  }
  if (!cert.checkPrivateKey(key)) return 'has a key that does not belong to its certificate';
  if (!cert.verify(new crypto.X509Certificate(caCertPem).publicKey)) return 'was not signed by the current cluster CA';
  if (!cert.subject.split('\n').includes(`O=${ADMIN_GROUP}`)) return `lacks O=${ADMIN_GROUP}`;
  const daysLeft = (Date.parse(cert.validTo) - now.getTime()) / 86_400_000;
  if (daysLeft < ADMIN_RENEW_BEFORE_DAYS) return `expires ${cert.validTo} (fewer than ${ADMIN_RENEW_BEFORE_DAYS} days left)`;
  return undefined;
}

/** Options of {@link loadOrIssueAdminClient}. */
export interface AdminClientOptions {
  /** Signs the admin certificate. @default OPENSSL_ISSUER (the openssl CLI, as for every certificate here) */
  readonly issuer?: CertificateIssuer;
  /** The time validity is judged at. @default - now */
  readonly now?: Date;
  /** Told why a stored pair is replaced. @default - a line on stderr */
  readonly onReissue?: (reason: string) => void;
}

/**
 * The admin client pair: read from `<dir>/<cluster>/admin-client.json` while it is still usable
 * (adminClientProblem), else issued with the cluster CA and written there (0600, directory 0700,
 * temporary file then rename). A synth thus writes the same kubeconfig every time until the pair is
 * due for renewal.
 */
export function loadOrIssueAdminClient(clusterName: string, dir: string, secrets: ClusterSecrets, options: AdminClientOptions = {}): CertificatePair {
  const clusterDir = path.join(dir, clusterName);
  const file = path.join(clusterDir, ADMIN_CLIENT_FILE);
  const now = options.now ?? new Date();
  if (fs.existsSync(file)) {
    let stored: unknown;
    try {
      stored = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      stored = undefined;
    }
    const problem = adminClientProblem(stored, secrets.caCertPem, now);
    if (problem === undefined) {
      const { certPem, keyPem } = stored as CertificatePair;
      return { certPem, keyPem };
    }
    (options.onReissue ?? ((r) => process.stderr.write(`${r}\n`)))(`${file} ${problem}: issuing a new admin certificate`);
  }
  const issuer = options.issuer ?? OPENSSL_ISSUER;
  const pair = issuer.issue(
    { certPem: secrets.caCertPem, keyPem: secrets.caKeyPem },
    { commonName: ADMIN_COMMON_NAME, organizations: [ADMIN_GROUP], usages: ['clientAuth'], days: ADMIN_CERT_VALIDITY_DAYS },
  );
  fs.mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(clusterDir, 0o700);
  const doc = { _comment: `The admin client certificate of cluster ${clusterName} (cluster-admin). Never commit. Deleting this file issues a new one on the next synth.`, certPem: pair.certPem, keyPem: pair.keyPem };
  writePrivateFile(file, JSON.stringify(doc, null, 2) + '\n');
  return { certPem: pair.certPem, keyPem: pair.keyPem };
}

/**
 * Writes `text` to `file` with mode 0600 through a temporary file and a rename, unless the file
 * already holds exactly `text` (then only its mode is made 0600). Returns whether it wrote.
 */
export function writePrivateFile(file: string, text: string): boolean {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) {
    fs.chmodSync(file, 0o600);
    return false;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text, { mode: 0o600, flag: 'w' });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
  return true;
}

/**
 * Synth's step: the admin kubeconfig of `plan` written to `file` (0600), with the stored or a
 * newly issued admin pair. Returns the file's path.
 */
export function writeAdminKubeconfig(plan: ClusterPlan, secrets: ClusterSecrets, secretsDir: string, file: string, options: AdminClientOptions = {}): string {
  const client = loadOrIssueAdminClient(plan.spec.name, secretsDir, secrets, options);
  writeKubeconfigFile(file, renderAdminKubeconfig(plan, secrets.caCertPem, client));
  return file;
}

/** Writes a rendered kubeconfig to `file` (0600), creating its folders (0700). */
export function writeKubeconfigFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writePrivateFile(file, text);
}
