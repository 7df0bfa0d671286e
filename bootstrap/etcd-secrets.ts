import * as crypto from 'crypto';
import { CertificateIssuer, CertificatePair, OPENSSL_ISSUER } from './private/openssl-issuer';

export type { CertificateIssuer, CertificatePair, CertificateRequest, ExtendedKeyUsage } from './private/openssl-issuer';
export { OPENSSL_ISSUER } from './private/openssl-issuer';

/**
 * The certificates of an external etcd cluster (spec.etcd.topology: external): its own CA, a server
 * and a peer pair per member, and one client pair for the kube-apiservers. Kept in the cluster's
 * secrets file beside the other secrets (see secrets.ts) and made only for external etcd.
 */

/** Who a member is, as its certificates name it. A NodePlan is one. */
export interface EtcdMemberIdentity {
  readonly hostname: string;
  readonly fqdn: string;
  readonly ip: string;
}

/** One member's certificates, signed by the etcd CA. */
export interface EtcdMemberSecrets {
  /** Client-facing TLS (port 2379): serverAuth + clientAuth (etcdctl on the member uses it too). */
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  /** Member-to-member TLS (port 2380): serverAuth + clientAuth (peers dial each other). */
  readonly peerCertPem: string;
  readonly peerKeyPem: string;
}

/** Everything external etcd needs. */
export interface EtcdSecrets {
  /** The etcd CA (distinct from the cluster CA). Its key never leaves the secrets file. */
  readonly caCertPem: string;
  readonly caKeyPem: string;
  /** The kube-apiserver's client pair (clientAuth), written to every control plane. */
  readonly apiserverClientCertPem: string;
  readonly apiserverClientKeyPem: string;
  /** Per member, by hostname. Members the spec no longer has are kept (harmless, and reused if they return). */
  readonly members: Readonly<Record<string, EtcdMemberSecrets>>;
}

/** The etcd CA's common name (kubeadm's own etcd CA uses the same). */
export const ETCD_CA_COMMON_NAME = 'etcd-ca';
/** The API server's etcd client certificate's common name (as kubeadm names it). */
export const ETCD_APISERVER_CLIENT_COMMON_NAME = 'kube-apiserver-etcd-client';
/** Validity of the etcd CA. */
export const ETCD_CA_VALIDITY_DAYS = 3650;
/**
 * Validity of the member and client certificates. Nothing rotates them (a lab cluster is rebuilt
 * sooner), so they live as long as the CA; kubeadm's own leaves last one year because
 * `kubeadm certs renew` exists for them — there is no such tool for these.
 */
export const ETCD_CERT_VALIDITY_DAYS = 3650;

/** The SANs a member's server and peer certificates carry: hostname, FQDN, IP, localhost, 127.0.0.1. */
export function etcdMemberSans(member: EtcdMemberIdentity): { readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] } {
  return { dnsNames: [member.hostname, member.fqdn, 'localhost'], ipAddresses: [member.ip, '127.0.0.1'] };
}

/** The SANs of a certificate as sorted `DNS:x` / `IP Address:y` strings (Node's format). */
function sansOf(certPem: string): string[] {
  const alt = new crypto.X509Certificate(certPem).subjectAltName ?? '';
  return alt
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .sort();
}

function expectedSans(member: EtcdMemberIdentity): string[] {
  const { dnsNames, ipAddresses } = etcdMemberSans(member);
  return [...dnsNames.map((d) => `DNS:${d}`), ...ipAddresses.map((ip) => `IP Address:${ip}`)].sort();
}

/** True when a member's stored certificates name exactly this identity (a changed network.cidr or domain does not). */
export function memberSecretsMatch(secrets: EtcdMemberSecrets, member: EtcdMemberIdentity): boolean {
  const want = expectedSans(member).join(',');
  return sansOf(secrets.serverCertPem).join(',') === want && sansOf(secrets.peerCertPem).join(',') === want;
}

function memberSecrets(issuer: CertificateIssuer, ca: CertificatePair, member: EtcdMemberIdentity): EtcdMemberSecrets {
  const sans = etcdMemberSans(member);
  const server = issuer.issue(ca, { commonName: member.hostname, usages: ['serverAuth', 'clientAuth'], ...sans, days: ETCD_CERT_VALIDITY_DAYS });
  const peer = issuer.issue(ca, { commonName: member.hostname, usages: ['serverAuth', 'clientAuth'], ...sans, days: ETCD_CERT_VALIDITY_DAYS });
  return { serverCertPem: server.certPem, serverKeyPem: server.keyPem, peerCertPem: peer.certPem, peerKeyPem: peer.keyPem };
}

/**
 * The etcd secrets for `members`, reusing what `existing` has: a new CA and client pair only when
 * there is none; per member, the stored pair when its SANs still name the member, else a new one.
 * `changed` tells whether anything was made (then the caller writes the file again).
 */
export function ensureEtcdSecrets(
  existing: EtcdSecrets | undefined,
  members: readonly EtcdMemberIdentity[],
  issuer: CertificateIssuer = OPENSSL_ISSUER,
): { readonly secrets: EtcdSecrets; readonly changed: boolean } {
  const names = members.map((m) => m.hostname);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new Error(`etcd members must have unique hostnames, got ${duplicate} twice`);
  let changed = false;
  let ca: CertificatePair;
  let client: CertificatePair;
  let stored: Record<string, EtcdMemberSecrets>;
  if (existing === undefined) {
    ca = issuer.newCa(ETCD_CA_COMMON_NAME, ETCD_CA_VALIDITY_DAYS);
    client = issuer.issue(ca, { commonName: ETCD_APISERVER_CLIENT_COMMON_NAME, usages: ['clientAuth'], days: ETCD_CERT_VALIDITY_DAYS });
    stored = {};
    changed = true;
  } else {
    ca = { certPem: existing.caCertPem, keyPem: existing.caKeyPem };
    client = { certPem: existing.apiserverClientCertPem, keyPem: existing.apiserverClientKeyPem };
    stored = { ...existing.members };
  }
  for (const member of members) {
    const have = stored[member.hostname];
    if (have === undefined || !memberSecretsMatch(have, member)) {
      stored[member.hostname] = memberSecrets(issuer, ca, member);
      changed = true;
    }
  }
  const sorted = Object.fromEntries(Object.keys(stored).sort().map((k) => [k, stored[k]]));
  return {
    secrets: { caCertPem: ca.certPem, caKeyPem: ca.keyPem, apiserverClientCertPem: client.certPem, apiserverClientKeyPem: client.keyPem, members: sorted },
    changed,
  };
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const MEMBER_FIELDS = ['serverCertPem', 'serverKeyPem', 'peerCertPem', 'peerKeyPem'] as const;
const ETCD_FIELDS = ['caCertPem', 'caKeyPem', 'apiserverClientCertPem', 'apiserverClientKeyPem', 'members'] as const;

/**
 * Checks the `etcd` part of a secrets document. Pure. Checks that the CA is a CA and its key
 * matches, and that every pair's key matches its certificate, the certificate is signed by the etcd
 * CA and has the usages it needs. `fail(field, problem)` throws; messages never show a value.
 */
export function parseEtcdSecrets(doc: unknown, fail: (field: string, problem: string) => never): EtcdSecrets {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return fail('etcd', `must be an object with fields ${ETCD_FIELDS.join(', ')}`);
  const o = doc as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!(ETCD_FIELDS as readonly string[]).includes(key)) fail(`etcd.${key}`, `is not a known field (allowed: ${ETCD_FIELDS.join(', ')})`);
  const str = (obj: Record<string, unknown>, field: string, where: string): string => {
    const v = obj[field];
    if (typeof v !== 'string') return fail(`${where}.${field}`, `is missing or not a string (got ${v === undefined ? 'nothing' : typeof v})`);
    return v;
  };
  const cert = (pem: string, field: string): crypto.X509Certificate => {
    try {
      return new crypto.X509Certificate(pem);
    } catch {
      return fail(field, 'is not a PEM X.509 certificate');
    }
  };
  const key = (pem: string, field: string): crypto.KeyObject => {
    try {
      return crypto.createPrivateKey(pem);
    } catch {
      return fail(field, 'is not a PEM private key');
    }
  };
  const caCertPem = str(o, 'caCertPem', 'etcd');
  const caKeyPem = str(o, 'caKeyPem', 'etcd');
  const ca = cert(caCertPem, 'etcd.caCertPem');
  if (!ca.ca) fail('etcd.caCertPem', 'is not a CA certificate (basicConstraints CA:TRUE is missing)');
  if (!ca.checkPrivateKey(key(caKeyPem, 'etcd.caKeyPem'))) fail('etcd.caKeyPem', 'does not belong to etcd.caCertPem (the public keys differ)');

  const leaf = (certPem: string, keyPem: string, certField: string, keyField: string, usages: readonly string[]) => {
    const c = cert(certPem, certField);
    if (c.ca) fail(certField, 'is a CA certificate; it must be a leaf');
    if (!c.verify(ca.publicKey)) fail(certField, 'is not signed by etcd.caCertPem');
    if (!c.checkPrivateKey(key(keyPem, keyField))) fail(keyField, `does not belong to ${certField} (the public keys differ)`);
    const eku = c.keyUsage ?? [];
    for (const u of usages) if (!eku.includes(u)) fail(certField, `lacks the extended key usage ${u === SERVER_AUTH ? 'serverAuth' : 'clientAuth'}`);
  };
  const apiserverClientCertPem = str(o, 'apiserverClientCertPem', 'etcd');
  const apiserverClientKeyPem = str(o, 'apiserverClientKeyPem', 'etcd');
  leaf(apiserverClientCertPem, apiserverClientKeyPem, 'etcd.apiserverClientCertPem', 'etcd.apiserverClientKeyPem', [CLIENT_AUTH]);

  const m = o.members;
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return fail('etcd.members', 'must be an object of member hostname => { serverCertPem, serverKeyPem, peerCertPem, peerKeyPem }');
  const members: Record<string, EtcdMemberSecrets> = {};
  for (const [hostname, entry] of Object.entries(m as Record<string, unknown>)) {
    const where = `etcd.members.${hostname}`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail(where, `must be an object with fields ${MEMBER_FIELDS.join(', ')}`);
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!(MEMBER_FIELDS as readonly string[]).includes(k)) fail(`${where}.${k}`, `is not a known field (allowed: ${MEMBER_FIELDS.join(', ')})`);
    const [serverCertPem, serverKeyPem, peerCertPem, peerKeyPem] = MEMBER_FIELDS.map((f) => str(e, f, where));
    leaf(serverCertPem, serverKeyPem, `${where}.serverCertPem`, `${where}.serverKeyPem`, [SERVER_AUTH, CLIENT_AUTH]);
    leaf(peerCertPem, peerKeyPem, `${where}.peerCertPem`, `${where}.peerKeyPem`, [SERVER_AUTH, CLIENT_AUTH]);
    members[hostname] = { serverCertPem, serverKeyPem, peerCertPem, peerKeyPem };
  }
  return { caCertPem, caKeyPem, apiserverClientCertPem, apiserverClientKeyPem, members };
}

/**
 * The etcd secrets a renderer needs for a plan with external etcd. @throws naming what is missing
 * and how to make it, when the secrets hold no etcd material or none for a member.
 */
export function requireEtcdSecrets(etcd: EtcdSecrets | undefined, members: readonly EtcdMemberIdentity[]): EtcdSecrets {
  if (etcd === undefined) {
    throw new Error(
      'secrets.etcd is missing, but etcd.topology is external: load the secrets with the plan\'s etcd members, loadOrCreateSecrets(name, dir, undefined, { members: plan.etcdNodes }), which makes the etcd CA and certificates once',
    );
  }
  for (const member of members) {
    const have = etcd.members[member.hostname];
    if (have === undefined) throw new Error(`secrets.etcd.members has no certificates for ${member.hostname} (have: ${Object.keys(etcd.members).join(', ') || 'none'}); loadOrCreateSecrets with { members: plan.etcdNodes } adds them`);
    if (!memberSecretsMatch(have, member)) {
      throw new Error(`secrets.etcd.members.${member.hostname}: its certificates do not name ${member.fqdn} / ${member.ip} (the network changed?); loadOrCreateSecrets with { members: plan.etcdNodes } replaces them`);
    }
  }
  return etcd;
}
