import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OPENSSL_ISSUER, ensureEtcdSecrets, renderEtcdMemberConfig } from '../../bootstrap';
import { pollUntil } from '../../host/poll-until';
import { requireTool } from '../support/tools';

// A REAL etcd member (Debian bookworm's etcd-server 3.4, installed by `npm run tools`) started from
// the config file the bootstrap renders — the same renderer, with loopback addresses, free ports and
// a temporary directory instead of the VM's — and certificates made by the same openssl issuer.
// `etcdctl endpoint health` with a client certificate of the etcd CA must succeed; without one, or
// with one of another CA, it must fail (client-cert-auth is really on). The VMs run etcd 3.6/3.7
// from kubeadm's image; the config keys used are read by both lines (embed.Config of 3.6.8).

const CLIENT_PORT = 23791;
const PEER_PORT = 23801;
const METRICS_PORT = 23811;

let tmp: string;
let etcd: ChildProcess | undefined;
let log = '';
const pki = (name: string) => path.join(tmp, 'pki', name);

function etcdctl(args: string[]): { status: number | null; output: string } {
  const r = spawnSync('etcdctl', ['--endpoints', `https://127.0.0.1:${CLIENT_PORT}`, '--dial-timeout', '3s', '--command-timeout', '3s', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ETCDCTL_API: '3' },
  });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  requireTool('etcd');
  requireTool('etcdctl');
  requireTool('openssl');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-loopback-'));
  fs.mkdirSync(path.join(tmp, 'pki'), { mode: 0o700 });
  // GIVEN the etcd certificates of a one-member cluster on loopback, made by the real issuer
  const member = { hostname: 'loopback-etcd-1', fqdn: 'loopback-etcd-1.test', ip: '127.0.0.1' };
  const { secrets } = ensureEtcdSecrets(undefined, [member], OPENSSL_ISSUER);
  const m = secrets.members[member.hostname];
  const write = (name: string, content: string, mode: number) => fs.writeFileSync(pki(name), content, { mode });
  write('ca.crt', secrets.caCertPem, 0o644);
  write('server.crt', m.serverCertPem, 0o644);
  write('server.key', m.serverKeyPem, 0o600);
  write('peer.crt', m.peerCertPem, 0o644);
  write('peer.key', m.peerKeyPem, 0o600);
  write('client.crt', secrets.apiserverClientCertPem, 0o644);
  write('client.key', secrets.apiserverClientKeyPem, 0o600);
  const other = ensureEtcdSecrets(undefined, [member], OPENSSL_ISSUER).secrets;
  write('other-ca-client.crt', other.apiserverClientCertPem, 0o644);
  write('other-ca-client.key', other.apiserverClientKeyPem, 0o600);
  // AND the member's config file from the bootstrap's renderer
  const config = renderEtcdMemberConfig({
    name: member.hostname,
    ip: member.ip,
    clientPort: CLIENT_PORT,
    peerPort: PEER_PORT,
    initialCluster: [{ name: member.hostname, ip: member.ip }],
    initialClusterToken: 'loopback-etcd',
    dataDir: path.join(tmp, 'data'),
    pki: { caCert: pki('ca.crt'), serverCert: pki('server.crt'), serverKey: pki('server.key'), peerCert: pki('peer.crt'), peerKey: pki('peer.key') },
    metricsUrl: `http://127.0.0.1:${METRICS_PORT}`,
  });
  fs.writeFileSync(path.join(tmp, 'etcd.conf.yml'), config);
  // WHEN etcd runs it
  etcd = spawn('etcd', ['--config-file', path.join(tmp, 'etcd.conf.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  etcd.stdout!.on('data', (d) => (log += d));
  etcd.stderr!.on('data', (d) => (log += d));
  // Bounded: up to 30 probes, 1 s apart.
  for (let i = 0; i < 30; i++) {
    if (etcd.exitCode !== null) throw new Error(`etcd exited with ${etcd.exitCode}:\n${log}`);
    if (etcdctl(['--cacert', pki('ca.crt'), '--cert', pki('client.crt'), '--key', pki('client.key'), 'endpoint', 'health']).status === 0) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`etcd did not become healthy within 30 probes:\n${log}`);
}, 120_000);

/**
 * Waits (up to 5 s) for etcd's log, from `mark` on, to match `pattern`: etcdctl runs synchronously,
 * so etcd's output is read only once the event loop turns again.
 */
async function serverLogSince(mark: number, pattern: RegExp): Promise<void> {
  await pollUntil(`etcd's log to match ${pattern}`, 5_000, async () => (pattern.test(log.slice(mark)) ? true : undefined), {
    diagnose: async () => `etcd's log since the command:\n${log.slice(mark)}`,
  });
}

afterAll(async () => {
  if (etcd && etcd.exitCode === null) {
    const exited = new Promise((r) => etcd!.once('exit', r));
    etcd.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    if (etcd.exitCode === null) etcd.kill('SIGKILL');
  }
  etcd?.stdout?.destroy();
  etcd?.stderr?.destroy();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('etcdctl endpoint health succeeds with the API server client certificate', () => {
  const r = etcdctl(['--cacert', pki('ca.crt'), '--cert', pki('client.crt'), '--key', pki('client.key'), 'endpoint', 'health']);
  expect(r.output).toMatch(/is healthy/);
  expect(r.status).toBe(0);
});

test('the member\'s own server certificate works as a client certificate too (what the VM\'s health wait uses)', () => {
  const r = etcdctl(['--cacert', pki('ca.crt'), '--cert', pki('server.crt'), '--key', pki('server.key'), 'member', 'list']);
  expect(r.status).toBe(0);
  expect(r.output).toContain('loopback-etcd-1');
  expect(r.output).toContain(`https://127.0.0.1:${PEER_PORT}`);
});

test('fails without a client certificate (client-cert-auth is on): etcd rejects the handshake for that reason', async () => {
  const mark = log.length;
  const r = etcdctl(['--cacert', pki('ca.crt'), 'endpoint', 'health']);
  expect(r.status).not.toBe(0);
  await serverLogSince(mark, /rejected connection.*tls: client didn't provide a certificate/);
});

test('fails with a client certificate of another CA: etcd rejects it as signed by an unknown authority', async () => {
  const mark = log.length;
  const r = etcdctl(['--cacert', pki('ca.crt'), '--cert', pki('other-ca-client.crt'), '--key', pki('other-ca-client.key'), 'endpoint', 'health']);
  expect(r.status).not.toBe(0);
  await serverLogSince(mark, /rejected connection.*failed to verify client certificate: x509: certificate signed by unknown authority/);
});

test('fails when the client does not trust the etcd CA (the server certificate is the etcd CA\'s): the client refuses it', async () => {
  const mark = log.length;
  const r = etcdctl(['--cacert', '/etc/ssl/certs/ca-certificates.crt', '--cert', pki('client.crt'), '--key', pki('client.key'), 'endpoint', 'health']);
  expect(r.status).not.toBe(0);
  // the client ends the handshake with a bad_certificate alert, which etcd logs
  await serverLogSince(mark, /rejected connection.*remote error: tls: bad certificate/);
});
