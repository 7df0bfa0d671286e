/**
 * The admin kubeconfig synth writes, checked with the real tools: openssl verifies its client
 * certificate against the cluster CA; the pinned kubectl reads it; the real kubeadm (v1.36.3, built
 * here) issues the API server certificate from the first control plane's init config, and the
 * kubeconfig's server IP is in its SANs; and, on loopback, kubectl with this kubeconfig completes a
 * TLS handshake with a server holding that kubeadm certificate and demanding a client certificate
 * from the cluster CA.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { ClusterSecrets, adminKubeconfigServer, loadOrCreateSecrets, renderKubeadmConfig, writeAdminKubeconfig } from '../../bootstrap';
import { ClusterPlan, ClusterSpecInput } from '../../spec';
import { TOOL_PATH, requireTool, runTool } from '../support/tools';
import { planOf } from '../fixtures/bootstrap-helpers';

let tmp: string;
let secrets: ClusterSecrets;

beforeAll(() => {
  requireTool('openssl');
  requireTool('kubeadm');
  requireTool('kubectl');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-admin-kubeconfig-'));
  // GIVEN real secrets, as the first synth makes them (openssl makes the CA)
  secrets = loadOrCreateSecrets('k8s-lab', path.join(tmp, '.secrets'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));


/** Writes the admin kubeconfig of `plan` as synth does (real openssl issuer) and returns its path. */
function kubeconfigOf(plan: ClusterPlan, name: string): string {
  return writeAdminKubeconfig(plan, secrets, path.join(tmp, '.secrets'), path.join(tmp, `${name}.kubeconfig`));
}

/** The client certificate and key of a kubeconfig, written to files. */
function clientFiles(kubeconfig: string): { cert: string; key: string; ca: string } {
  const doc = YAML.parse(fs.readFileSync(kubeconfig, 'utf8'));
  const write = (name: string, b64: string) => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, Buffer.from(b64, 'base64'), { mode: 0o600 });
    return f;
  };
  return {
    cert: write('admin.crt', doc.users[0].user['client-certificate-data']),
    key: write('admin.key', doc.users[0].user['client-key-data']),
    ca: write('ca-from-kubeconfig.crt', doc.clusters[0].cluster['certificate-authority-data']),
  };
}

/**
 * The API server certificate the real kubeadm issues for the first control plane of `plan`
 * (`kubeadm init phase certs apiserver` with the node's own init config and the cluster CA).
 */
function kubeadmApiServerCert(plan: ClusterPlan, name: string): { dir: string; cert: string; key: string } {
  const dir = path.join(tmp, `pki-${name}`);
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'ca.crt'), secrets.caCertPem);
  fs.writeFileSync(path.join(dir, 'ca.key'), secrets.caKeyPem, { mode: 0o600 });
  // The node's config as rendered, with certificatesDir moved here (kubeadm refuses --cert-dir with --config).
  const docs = YAML.parseAllDocuments(renderKubeadmConfig(plan, plan.controlPlanes[0], secrets)).map((d) => d.toJS());
  const cluster = docs.find((d) => d.kind === 'ClusterConfiguration');
  cluster.certificatesDir = dir;
  const config = path.join(tmp, `kubeadm-${name}.yaml`);
  fs.writeFileSync(config, docs.map((d) => YAML.stringify(d)).join('---\n'), { mode: 0o600 });
  const run = runTool('kubeadm', ['init', 'phase', 'certs', 'apiserver', '--config', config]);
  if (run.status !== 0) throw new Error(`kubeadm init phase certs apiserver failed:\n${run.output}`);
  return { dir, cert: path.join(dir, 'apiserver.crt'), key: path.join(dir, 'apiserver.key') };
}

/** The IP addresses among a certificate's SANs, as openssl prints them. */
function ipSans(certFile: string): string[] {
  const out = runTool('openssl', ['x509', '-in', certFile, '-noout', '-ext', 'subjectAltName']).output;
  return [...out.matchAll(/IP Address:([0-9.]+)/g)].map((m) => m[1]);
}

describe('the admin client certificate (real openssl)', () => {
  test('verifies against the cluster CA with openssl verify, as CN=kubernetes-admin, O=kubeadm:cluster-admins, clientAuth only', () => {
    const { cert, ca } = clientFiles(kubeconfigOf(planOf({}), 'default'));
    fs.writeFileSync(path.join(tmp, 'ca.crt'), secrets.caCertPem);
    expect(fs.readFileSync(ca, 'utf8')).toBe(secrets.caCertPem);
    expect(runTool('openssl', ['verify', '-CAfile', path.join(tmp, 'ca.crt'), cert])).toEqual({ status: 0, output: `${cert}: OK\n` });
    const text = runTool('openssl', ['x509', '-in', cert, '-noout', '-subject', '-ext', 'extendedKeyUsage,basicConstraints', '-nameopt', 'RFC2253']).output;
    expect(text).toMatch(/^subject=CN=kubernetes-admin,O=kubeadm:cluster-admins$/m);
    expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
    expect(text).toMatch(/CA:FALSE/);
  });

  test('fails when verified against another CA: openssl verify rejects it', () => {
    const { cert } = clientFiles(kubeconfigOf(planOf({}), 'default'));
    const other = loadOrCreateSecrets('other', path.join(tmp, '.secrets'));
    fs.writeFileSync(path.join(tmp, 'other-ca.crt'), other.caCertPem);
    const run = runTool('openssl', ['verify', '-CAfile', path.join(tmp, 'other-ca.crt'), cert]);
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/unable to get local issuer certificate/);
  });
});

describe('the kubeconfig server and the API server certificate kubeadm issues', () => {
  test.each([
    ['one load balancer: its IP', {}, '192.168.150.5'],
    ['two load balancers: the virtual IP', { loadBalancer: { count: 2, virtualIp: '192.168.150.2' } }, '192.168.150.2'],
  ])('%s is the server the pinned kubectl reads, and is in the SANs of the real kubeadm apiserver certificate', (name, doc, ip) => {
    const plan = planOf(doc as ClusterSpecInput);
    const kubeconfig = kubeconfigOf(plan, name.replace(/\W+/g, '-'));
    // THEN kubectl reads the file as it is
    const server = runTool('kubectl', ['config', 'view', '--kubeconfig', kubeconfig, '-o', 'jsonpath={.clusters[0].cluster.server}']);
    expect(server).toEqual({ status: 0, output: `https://${ip}:6443` });
    expect(adminKubeconfigServer(plan)).toBe(`https://${ip}:6443`);
    const context = runTool('kubectl', ['config', 'current-context', '--kubeconfig', kubeconfig]);
    expect(context.output.trim()).toBe('k8s-lab-admin@k8s-lab');
    // AND kubeadm's own certificate for the first control plane names that IP
    const sans = ipSans(kubeadmApiServerCert(plan, name.replace(/\W+/g, '-')).cert);
    expect(sans).toContain(ip);
    expect(sans).not.toContain('192.168.150.99');
  });
});

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Starts `openssl s_server` on 127.0.0.1:port and resolves once it accepts connections. */
function startTlsServer(args: string[]): Promise<{ child: ChildProcess; log: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_server', ...args], { env: { ...process.env, PATH: TOOL_PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`openssl s_server did not start within 10 s:\n${out}`)), 10_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes('ACCEPT')) {
        clearTimeout(timer);
        resolve({ child, log: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`openssl s_server exited ${code}:\n${out}`));
    });
  });
}

describe('on loopback: kubectl with the kubeconfig against a TLS server holding the kubeadm certificate', () => {
  test('kubectl trusts the server for the load balancer IP, and a server demanding a cluster-CA client certificate accepts the admin one; fails for an IP not in the SANs', async () => {
    // GIVEN a TLS server on loopback with kubeadm's API server certificate, which requires a client
    // certificate signed by the cluster CA (-Verify 1 -verify_return_error) and answers with what it saw (-www)
    const plan = planOf({});
    const kubeconfig = kubeconfigOf(plan, 'loopback');
    const pki = kubeadmApiServerCert(plan, 'loopback');
    const port = await freePort();
    const server = await startTlsServer(['-accept', `127.0.0.1:${port}`, '-cert', pki.cert, '-key', pki.key, '-CAfile', path.join(pki.dir, 'ca.crt'), '-Verify', '1', '-verify_return_error', '-www']);
    try {
      // WHEN kubectl connects to it as if it were the load balancer (server name = the kubeconfig's IP)
      const get = (serverName: string) => runTool('kubectl', ['--kubeconfig', kubeconfig, '--server', `https://127.0.0.1:${port}`, '--tls-server-name', serverName, '--request-timeout', '10s', 'get', '--raw', '/']);
      const ok = get('192.168.150.5');
      // THEN the handshake succeeds both ways (-verify_return_error ends it for a client certificate the
      // CA did not sign), and the page the server answers with shows the admin client certificate
      expect(ok.status).toBe(0);
      expect(ok.output).toMatch(/Client certificate[\s\S]*Subject: O=kubeadm:cluster-admins, CN=kubernetes-admin/);
      // AND fails when the name is not in kubeadm's certificate
      const bad = get('192.168.150.99');
      expect(bad.status).not.toBe(0);
      expect(bad.output).toMatch(/certificate is valid for .*192\.168\.150\.5.*, not 192\.168\.150\.99/);
    } finally {
      server.child.kill('SIGTERM');
    }
  });
});
