/**
 * Secrets hygiene, with real secrets (openssl makes the CA) and real files: no secret value is in
 * any file git tracks (snapshots included), and every file that holds one is private (0600/0700).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ADMIN_CLIENT_FILE, ClusterSecrets, DEFAULT_SECRETS_DIR, SECRETS_FILE, loadOrCreateSecrets, loadOrIssueAdminClient } from '../../bootstrap';
import { renderCluster } from '../../scripts/render';
import { TEST_SSH_KEY, planOf } from '../fixtures/bootstrap-helpers';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { EtcdTopology } from '../../spec';
import { ROOT, requireTool } from '../support/tools';
import { fileMode as mode } from '../support/output-tree';

/** One secret value to look for, and what it is (never printed: messages name `what` only). */
interface Needle {
  readonly what: string;
  readonly value: string;
}

/** A file's name and text. */
interface ScannedFile {
  readonly name: string;
  readonly text: string;
}

/**
 * The values of a secrets document worth searching for: every string leaf except certificates and
 * the CA hash (public), private keys by each base64 body line (so a key is found however it was
 * escaped or re-wrapped), and the bootstrap token whole and by its secret half. Nested material
 * (external etcd's keys) is included.
 */
function needlesOf(doc: unknown, source: string, at = ''): Needle[] {
  if (typeof doc === 'string') {
    if (/CertPem$|^caCertHash$|_comment$/.test(at.split('.').pop() ?? '')) return [];
    if (doc.includes('PRIVATE KEY-----')) {
      return doc
        .split('\n')
        .filter((l) => l.length >= 16 && !l.startsWith('-----'))
        .map((value, i) => ({ what: `${source} ${at} body line ${i + 1}`, value }));
    }
    const token = /^[a-z0-9]{6}\.([a-z0-9]{16})$/.exec(doc);
    if (token) return [{ what: `${source} ${at}`, value: doc }, { what: `${source} ${at} (secret half)`, value: token[1] }];
    return doc.length >= 16 ? [{ what: `${source} ${at}`, value: doc }] : [];
  }
  if (doc === null || typeof doc !== 'object') return [];
  return Object.entries(doc as Record<string, unknown>).flatMap(([k, v]) => needlesOf(v, source, at === '' ? k : `${at}.${k}`));
}

/** Where secret values occur: `<file>: <what>` per hit. */
function secretHits(files: readonly ScannedFile[], needles: readonly Needle[]): string[] {
  return files.flatMap((f) => needles.filter((n) => f.text.includes(n.value)).map((n) => `${f.name}: ${n.what}`));
}

/** Every file git tracks, or would track on `git add` (not ignored), with its working-tree text. */
function gitFiles(): ScannedFile[] {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  return listed.stdout
    .split('\0')
    .filter((name) => name !== '' && fs.statSync(path.join(ROOT, name), { throwIfNoEntry: false })?.isFile())
    .map((name) => ({ name, text: fs.readFileSync(path.join(ROOT, name), 'latin1') }));
}

/** Files below `dir`, recursively, with their text. */
function filesUnder(dir: string): ScannedFile[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .map((file) => ({ name: path.relative(dir, file), text: fs.readFileSync(file, 'utf8') }));
}


let tmp: string;
let secretsDir: string;
let secrets: ClusterSecrets;
let needles: Needle[];
let developerSets: string[];

beforeAll(() => {
  requireTool('git');
  requireTool('openssl');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-hygiene-'));
  secretsDir = path.join(tmp, '.secrets');
  // GIVEN a real secret set, made as the first synth of a cluster with external etcd makes it
  secrets = loadOrCreateSecrets('k8s-lab', secretsDir, undefined, { members: planOf({ etcd: { topology: EtcdTopology.EXTERNAL } }).etcdNodes });
  // AND its admin client certificate, as synth issues it for the kubeconfig (real openssl)
  loadOrIssueAdminClient('k8s-lab', secretsDir, secrets);
  // AND the developer's own secret sets and admin credentials, when there are any
  const devDir = path.join(ROOT, DEFAULT_SECRETS_DIR);
  developerSets = fs.existsSync(devDir) ? fs.readdirSync(devDir).flatMap((c) => [SECRETS_FILE, ADMIN_CLIENT_FILE].map((f) => path.join(devDir, c, f))).filter((f) => fs.existsSync(f)) : [];
  needles = [
    ...needlesOf(JSON.parse(fs.readFileSync(path.join(secretsDir, 'k8s-lab', SECRETS_FILE), 'utf8')), 'generated'),
    ...needlesOf(JSON.parse(fs.readFileSync(path.join(secretsDir, 'k8s-lab', ADMIN_CLIENT_FILE), 'utf8')), 'generated admin'),
    ...developerSets.flatMap((f) => needlesOf(JSON.parse(fs.readFileSync(f, 'utf8')), path.relative(ROOT, f))),
  ];
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('secrets never enter git', () => {
  test('the needles cover the token, its secret half, the certificate key, every line of the CA key and the etcd keys', () => {
    const generated = needles.filter((n) => n.what.startsWith('generated ')).map((n) => n.value);
    expect(generated).toEqual(expect.arrayContaining([secrets.bootstrapToken, secrets.bootstrapToken.split('.')[1], secrets.certificateKey]));
    const keyLines = secrets.caKeyPem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
    expect(keyLines.length).toBeGreaterThan(20);
    expect(generated).toEqual(expect.arrayContaining(keyLines));
    expect(generated).not.toContain(secrets.caCertPem.split('\n')[1]);
    const etcd = secrets.etcd!;
    const etcdKeys = [etcd.caKeyPem, etcd.apiserverClientKeyPem, ...Object.values(etcd.members).flatMap((m) => [m.serverKeyPem, m.peerKeyPem])];
    expect(etcdKeys).toHaveLength(8);
    for (const key of etcdKeys) expect(generated).toContain(key.split('\n')[1]);
    // AND the admin client key, line by line
    const adminKey = (JSON.parse(fs.readFileSync(path.join(secretsDir, 'k8s-lab', ADMIN_CLIENT_FILE), 'utf8')) as { keyPem: string }).keyPem;
    expect(generated).toEqual(expect.arrayContaining(adminKey.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))));
    // AND the developer's sets, when .secrets/ has any
    expect(needles.some((n) => !n.what.startsWith('generated '))).toBe(developerSets.length > 0);
  });

  // The set generated here is new, so only the developer's sets (.secrets/, made by synth; npm run test:all
  // synthesizes before the tiers) can really be found in git; the generated one shows the scan runs on every file.
  test(`no secret of the developer's sets under .secrets/ (once synth has run) is in a git-tracked or addable file (snapshots included)`, () => {
    const files = gitFiles();
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['package.json', expect.stringMatching(/__snapshots__\/.+\.snap$/)]));
    expect(secretHits(files, needles)).toEqual([]);
  });

  test('kubeconfigs, secrets, state and synth output are git-ignored wherever synth writes them', () => {
    const paths = ['k8s-lab.kubeconfig', 'lab2.kubeconfig', '.secrets/k8s-lab/admin-client.json', 'terraform.k8s-lab.tfstate', 'terraform.k8s-lab.tfstate.backup', 'cdktf.out/stacks/k8s-lab/cdk.tf.json'];
    const ignored = spawnSync('git', ['check-ignore', '--no-index', ...paths], { cwd: ROOT, encoding: 'utf8' });
    expect(ignored.stdout.split('\n').filter((l) => l !== '')).toEqual(paths);
    // AND the check can fail: a source file is not ignored
    expect(spawnSync('git', ['check-ignore', '--no-index', 'main.ts'], { cwd: ROOT }).status).toBe(1);
  });

  test('private keys appear in git only in the fake fixtures (__tests__/fixtures/fake-*.json, marked FAKE); snapshots redact even those', () => {
    // GIVEN the fake fixtures' keys, by first body line
    const files = gitFiles();
    const isFixture = (name: string) => /^__tests__\/fixtures\/fake-[a-z-]+\.json$/.test(name);
    const fixtures = files.filter((f) => isFixture(f.name) && f.text.includes('PRIVATE KEY'));
    expect(fixtures.map((f) => f.name)).toContain('__tests__/fixtures/fake-secrets.json');
    for (const f of fixtures) expect(`${f.name}: ${(JSON.parse(f.text) as { _comment?: string })._comment}`).toMatch(/: FAKE /);
    const fake = new Set(fixtures.flatMap((f) => privateKeys(f.text)));
    expect(fake).toContain(FAKE_SECRETS.caKeyPem.split('\n')[1]);
    // THEN no other tracked file (snapshots included, even escaped in JSON) holds private key material
    // (the snapshot serializer __tests__/support/redact-private-keys.js replaces fake keys too)
    const found = files.filter((f) => !isFixture(f.name)).flatMap((f) => privateKeys(f.text).map((line) => ({ file: f.name, fake: fake.has(line) })));
    expect(found).toEqual([]);
  });

  test('fails when a file holds a secret: the scan finds the token in a temp file and every secret in the real render', () => {
    // GIVEN a file holding the token, and the rendered tree of the real secrets
    const leak: ScannedFile = { name: 'leak.txt', text: `token: ${secrets.bootstrapToken}\n` };
    const half: ScannedFile = { name: 'half.txt', text: `x${secrets.bootstrapToken.split('.')[1]}x` };
    renderCluster({ CLUSTER_CONFIG: writeSpec({}) }, tmp, 'rendered', secretsDir);
    const rendered = filesUnder(path.join(tmp, 'rendered'));
    // THEN
    expect(secretHits([leak, half], needles)).toEqual(['leak.txt: generated bootstrapToken', 'leak.txt: generated bootstrapToken (secret half)', 'half.txt: generated bootstrapToken (secret half)']);
    const hits = secretHits(rendered, needles);
    expect(hits).toContain('k8s-lab-cp-1/kubeadm.yaml: generated certificateKey');
    expect(hits).toContain('k8s-lab-worker-general-1/user-data: generated bootstrapToken');
    expect(hits).toContain('k8s-lab-cp-1/user-data: generated caKeyPem body line 1');
  });
});

describe('a secrets folder moved into a git work tree', () => {
  test('carries a .gitignore of everything: git sees nothing to add, and a second load writes it again if it was deleted', () => {
    // GIVEN a git work tree with no .gitignore of its own, and the secrets folder inside it
    const tree = fs.mkdtempSync(path.join(tmp, 'repo-'));
    const git = (...args: string[]) => spawnSync('git', ['-C', tree, ...args], { encoding: 'utf8' });
    expect(git('init', '-q').status).toBe(0);
    const status = () => {
      const r = git('status', '--porcelain', '--untracked-files=all');
      return { status: r.status, untracked: r.stdout };
    };
    // WHEN secrets are made there
    loadOrCreateSecrets('lab', path.join(tree, 'my-secrets'), () => FAKE_SECRETS);
    // THEN git sees nothing to add
    expect(status()).toEqual({ status: 0, untracked: '' });
    expect(git('check-ignore', '-q', 'my-secrets/lab/secrets.json').status).toBe(0);
    // AND a folder of before this change, without it, gets it on the next load
    fs.rmSync(path.join(tree, 'my-secrets', 'lab', '.gitignore'));
    expect(status().untracked).toMatch(/my-secrets\/lab\/secrets\.json/);
    loadOrCreateSecrets('lab', path.join(tree, 'my-secrets'), () => FAKE_SECRETS);
    expect(status()).toEqual({ status: 0, untracked: '' });
  });
});

describe('files holding secrets are private', () => {
  test('the secrets file is 0600 in a 0700 directory', () => {
    expect(mode(path.join(secretsDir, 'k8s-lab'))).toBe('0700');
    expect(mode(path.join(secretsDir, 'k8s-lab', SECRETS_FILE))).toBe('0600');
  });

  test.each<[string, object]>([
    ['the default spec', {}],
    ['two load balancers', { loadBalancer: { count: 2, virtualIp: '192.168.150.2' } }],
    ['external etcd', { etcd: { topology: EtcdTopology.EXTERNAL } }],
  ])('npm run render (%s) writes user-data and kubeadm.yaml 0600 in 0700 directories', (_name, doc) => {
    const root = fs.mkdtempSync(path.join(tmp, 'render-'));
    const written = renderCluster({ CLUSTER_CONFIG: writeSpec(doc) }, root, 'rendered', secretsDir);
    const secretFiles = written.filter((f) => /\/(user-data|kubeadm\.yaml)$/.test(f));
    expect(secretFiles).toEqual(expect.arrayContaining(['rendered/k8s-lab-cp-1/user-data', 'rendered/k8s-lab-cp-2/kubeadm.yaml']));
    for (const f of secretFiles) expect(`${f} ${mode(path.join(root, f))}`).toBe(`${f} 0600`);
    for (const d of new Set(written.map((f) => path.dirname(f)))) expect(`${d} ${mode(path.join(root, d))}`).toBe(`${d} 0700`);
  });

  test('the first control plane installs the operator kubeconfig 0600, owned by ubuntu', () => {
    const root = fs.mkdtempSync(path.join(tmp, 'render-'));
    renderCluster({ CLUSTER_CONFIG: writeSpec({}) }, root, 'rendered', secretsDir);
    const userData = fs.readFileSync(path.join(root, 'rendered', 'k8s-lab-cp-1', 'user-data'), 'utf8');
    expect(userData).toContain('install -m 0600 -o ubuntu -g ubuntu /etc/kubernetes/admin.conf /home/ubuntu/.kube/config');
    expect(userData).toContain('install -d -m 0700 -o ubuntu -g ubuntu /home/ubuntu/.kube');
  });

  test('scripts/, host/ and main.ts write no kubeconfig themselves: on the host only bootstrap/admin-kubeconfig.ts does, through its 0600 writer', () => {
    const scripts = filesUnder(path.join(ROOT, 'scripts')).filter((f) => /\.(sh|ts)$/.test(f.name)).map((f) => ({ ...f, name: `scripts/${f.name}` }));
    const host = filesUnder(path.join(ROOT, 'host')).map((f) => ({ ...f, name: `host/${f.name}` }));
    const main = { name: 'main.ts', text: fs.readFileSync(path.join(ROOT, 'main.ts'), 'utf8') };
    expect(scripts.length).toBeGreaterThan(3);
    // Calling the writer (or importing it) is how a kubeconfig may be written; anything else that writes one is not.
    const viaWriter = (line: string) => /^\s*writeKubeconfigFile\(/.test(line) || /^import .*\bwriteKubeconfigFile\b.* from '\.\/bootstrap';$/.test(line);
    const found = [...scripts, ...host, main].flatMap((f) => kubeconfigWrites(f.text).map((l) => ({ file: f.name, line: l })));
    expect(found.filter((w) => !viaWriter(w.line)).map((w) => `${w.file}: ${w.line}`)).toEqual([]);
    // (synth writes it: main.ts calls the writer)
    expect(found.filter((w) => w.file === 'main.ts' && /^\s*writeKubeconfigFile\(/.test(w.line))).toHaveLength(1);
    // AND the one writer on the host writes the file with writePrivateFile (0600; its modes: unit tier)
    const writer = fs.readFileSync(path.join(ROOT, 'bootstrap', 'admin-kubeconfig.ts'), 'utf8');
    const body = /export function writeKubeconfigFile\(file: string, text: string\): void \{\n([\s\S]*?)\n\}/.exec(writer);
    expect(body?.[1]).toMatch(/^\s+writePrivateFile\(file, text\);$/m);
    expect(kubeconfigWrites(writer).filter((l) => !/writeKubeconfigFile\(file/.test(l))).toEqual([]);
  });

  test('fails when a script writes a kubeconfig (the grep sees redirects, cp, kubectl config set-*)', () => {
    const bad = ['ssh ubuntu@cp-1 cat .kube/config > lab.kubeconfig', 'cp /tmp/admin.conf ./admin.conf', 'kubectl config set-cluster lab --server=https://x:6443', 'fs.writeFileSync(kubeconfigPath, text)'];
    expect(bad.map((l) => kubeconfigWrites(l).length)).toEqual([1, 1, 1, 1]);
    expect(kubeconfigWrites('[[ -r "${KUBECONFIG}" ]] || fail 2 "KUBECONFIG names a file that is not readable" >&2')).toEqual([]);
  });
});

/** The first base64 body line of every PEM private key in a text, however it is escaped. */
function privateKeys(text: string): string[] {
  return [...text.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----(?:\\n|\n|\s|")*([A-Za-z0-9+/=]{16,})/g)].map((m) => m[1]);
}

/** Lines that look like they write a kubeconfig: mention one, and redirect/copy/write or `kubectl config set`. */
function kubeconfigWrites(text: string): string[] {
  const mentions = /kubeconfig|admin\.conf|\.kube\/config/i;
  // A redirect is a `>` that is not part of `=>`, `>>&`/`>&` or a `<placeholder>` in a message.
  const writes = /(^|[^0-9&>=])>(?!&)\s*\S|\btee\b|\bcp\b|\binstall\b|\bscp\b|write[A-Za-z]*File|copyFile/;
  const editsKubeconfig = /kubectl\s+config\s+(set|use|rename|delete)/;
  const placeholders = (l: string) => l.replace(/<[a-z][a-z-]*>/g, 'X');
  return text.split('\n').filter((l) => !/^\s*(#|\/\/|\*)/.test(l) && ((mentions.test(l) && writes.test(placeholders(l))) || editsKubeconfig.test(l)));
}

/** A spec file in the temp dir: `doc` with the test SSH key. */
function writeSpec(doc: object): string {
  const file = path.join(fs.mkdtempSync(path.join(tmp, 'spec-')), 'cluster.json');
  fs.writeFileSync(file, JSON.stringify({ ssh: { authorizedKeys: [TEST_SSH_KEY] }, ...doc }));
  return file;
}
