import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REGISTER_TS, ROOT } from '../support/tools';
import { scratchProjectCopy } from '../support/scratch-project';

// The bad-input catalogue: every spec below goes through CLUSTER_CONFIG into the user's real
// command (`npm run synth`, i.e. scripts/synth.sh). Each must exit non-zero before anything is
// written, name the field, the value and what is allowed, and leave the earlier cdktf.out/ and
// dist/ byte-identical.

const BAD_SPECS: [string, string, RegExp][] = [
  ['YAML syntax error', 'controlPlane: {count: 3\n', /YAML syntax: /],
  ['duplicate key', 'name: a\nname: b\n', /YAML syntax: .*unique/],
  ['not a mapping', '- name: a\n', /\(top level\): must be a mapping/],
  ['unknown top-level key', 'workers: []\n', /workers: unknown key .*allowed at \(top level\)/],
  ['unknown nested key (typo)', 'controlPlane:\n  memoryMb: 4096\n', /controlPlane\.memoryMb: unknown key .*memoryMiB/],
  ['wrong type', 'controlPlane:\n  count: three\n', /controlPlane\.count: must be a whole number from 1 to 9 \(got "three"\)/],
  ['an infinite count (YAML .inf)', 'workerPools:\n  - name: a\n    count: .inf\n', /workerPools\[0\]\.count: must be a whole number of at least 0 \(got Infinity\)/],
  ['fractional size', 'controlPlane:\n  vcpu: 2.5\n', /controlPlane\.vcpu: .*2\.5/],
  ['control plane below kubeadm minimum memory', 'controlPlane:\n  memoryMiB: 1024\n', /controlPlane\.memoryMiB: must be at least 1700 \(kubeadm's minimum\) \(got 1024\)/],
  ['control plane below kubeadm minimum vCPU', 'controlPlane:\n  vcpu: 1\n', /controlPlane\.vcpu: must be at least 2/],
  ['negative worker count', 'workerPools:\n  - name: general\n    count: -1\n', /workerPools\[0\]\.count: must be at least 0 \(got -1\)/],
  ['disk too large', 'loadBalancer:\n  diskGiB: 100000\n', /loadBalancer\.diskGiB: must be at most 2048 \(got 100000\)/],
  ['pod network overlaps node network', 'network:\n  cidr: 10.244.0.0/24\n', /kubernetes\.podCidr: must not overlap network\.cidr/],
  ['service network overlaps pod network', 'kubernetes:\n  serviceCidr: 10.240.0.0/12\n', /kubernetes\.serviceCidr: must not overlap kubernetes\.podCidr/],
  ['service network with host bits set', 'kubernetes:\n  serviceCidr: 10.244.0.0/12\n', /kubernetes\.serviceCidr: must be an IPv4 network.*"10\.244\.0\.0\/12"/],
  ['network too small', 'network:\n  cidr: 192.168.150.0/27\n', /network\.cidr: is too small/],
  ['invalid CIDR', 'network:\n  cidr: 192.168.300.0/24\n', /network\.cidr: must be an IPv4 network in CIDR notation.*"192\.168\.300\.0\/24"/],
  ['invalid cluster name', 'name: My_Cluster\n', /name: must be a DNS-1123 label.*"My_Cluster"/],
  ['invalid pool name', 'workerPools:\n  - name: GPU\n', /workerPools\[0\]\.name: must be a DNS-1123 label/],
  ['pool without a name', 'workerPools:\n  - count: 2\n', /workerPools\[0\]\.name: .*\(got nothing\)/],
  ['duplicate pools', 'workerPools:\n  - name: a\n  - name: a\n', /workerPools\[1\]\.name: must be unique/],
  ['invalid label key', 'workerPools:\n  - name: a\n    labels: {"bad key": x}\n', /workerPools\[0\]\.labels\["bad key"\]: key must be a label key/],
  ['invalid label value', 'workerPools:\n  - name: a\n    labels: {tier: "a b"}\n', /workerPools\[0\]\.labels\.tier: must be a label value/],
  ['label the kubelet may not set', 'workerPools:\n  - name: a\n    labels: {"node-role.kubernetes.io/worker": ""}\n', /NodeRestriction/],
  ['invalid taint effect', 'workerPools:\n  - name: a\n    taints: [{key: gpu, effect: Sometimes}]\n', /workerPools\[0\]\.taints\[0\]\.effect: must be one of NoSchedule, PreferNoSchedule, NoExecute \(got "Sometimes"\)/],
  ['taint without effect', 'workerPools:\n  - name: a\n    taints: [{key: gpu}]\n', /workerPools\[0\]\.taints\[0\]\.effect: must be one of/],
  ['unknown CNI', 'kubernetes:\n  cni: weave\n', /kubernetes\.cni: must be one of calico, flannel \(got "weave"\)/],
  ['bad Kubernetes version', 'kubernetes:\n  version: latest\n', /kubernetes\.version: must be a release .*\(got "latest"\)/],
  ['unsupported Kubernetes version', 'kubernetes:\n  version: 1.28.4\n', /kubernetes\.version: must be a release 1\.36\.x to 1\.37\.x/],
  ['bad SSH key', 'ssh:\n  authorizedKeys: ["ssh-ed25519 garbage"]\n', /ssh\.authorizedKeys\[0\]: must be an OpenSSH public key line/],
  ['an http URL as the libvirt URI', 'libvirt:\n  uri: http://example.invalid\n', /libvirt\.uri: must be a libvirt URI driver\[\+transport\]:\/\/.* \(got "http:\/\/example\.invalid"\)/],
  ['unknown domain type', 'libvirt:\n  domainType: xen\n', /libvirt\.domainType: must be one of kvm, qemu \(got "xen"\)/],
  ['two load balancers without a VIP', 'loadBalancer:\n  count: 2\n', /loadBalancer\.virtualIp: is required when loadBalancer\.count is 2/],
  ['three load balancers', 'loadBalancer:\n  count: 3\n', /loadBalancer\.count: must be 1 or 2 \(got 3\)/],
  ['one load balancer with a virtual IP', 'loadBalancer:\n  virtualIp: 192.168.150.3\n', /loadBalancer\.virtualIp: must be left out when loadBalancer\.count is 1.*\(got "192\.168\.150\.3"\)/],
  ['a taint repeated by key and effect', 'workerPools:\n  - name: a\n    taints: [{key: k, effect: NoSchedule}, {key: k, value: v, effect: NoSchedule}]\n', /workerPools\[0\]\.taints\[1\]: must be unique by key and effect/],
  ['two pools in one address block', 'workerPools:\n  - name: a\n  - name: b\n    addressBlock: 0\n', /workerPools\[1\]\.addressBlock: must differ from every other pool's block/],
  ['a pod network with fewer /24s than nodes', 'kubernetes:\n  podCidr: 10.244.0.0/23\n', /kubernetes\.podCidr: is too small: it holds 2 node range\(s\) of \/24, but the cluster has 5 nodes/],
];

/** sha256 of every file under `dir`, by relative path. */
function treeHash(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

let work: string;
let before: { tf: Record<string, string>; k8s: Record<string, string> };

/** Runs scripts/synth.sh in the scratch copy with CLUSTER_CONFIG set. */
function synth(config: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env, K8S_LAB_SECRETS_DIR: path.join(work, '.secrets'), CI: '1' };
  delete env.CLUSTER_CONFIG;
  if (config !== undefined) env.CLUSTER_CONFIG = config;
  return spawnSync('bash', ['scripts/synth.sh'], { cwd: work, env, encoding: 'utf8', timeout: 300_000 });
}

beforeAll(() => {
  // GIVEN a scratch copy of the project (sources only, node_modules linked) with a good synth in it
  work = scratchProjectCopy('bad-input-');
  const good = synth(undefined);
  if (good.status !== 0) throw new Error(`the default synth failed:\n${good.stdout}${good.stderr}`);
  before = { tf: treeHash(path.join(work, 'cdktf.out')), k8s: treeHash(path.join(work, 'dist')) };
  if (Object.keys(before.tf).length === 0) throw new Error('the default synth wrote no cdktf.out');
}, 600_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('the catalogue has at least 20 bad specs', () => {
  expect(BAD_SPECS.length).toBeGreaterThanOrEqual(20);
});

test.each(BAD_SPECS)('npm run synth refuses a spec with: %s', (_name, yaml, message) => {
  // WHEN a bad spec is given through CLUSTER_CONFIG
  const file = path.join(work, `bad-${crypto.randomUUID()}.yaml`);
  fs.writeFileSync(file, yaml);
  const run = synth(file);
  // THEN it exits non-zero, names the field and value, and the earlier outputs are untouched
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).toMatch(/invalid cluster spec/);
  expect(treeHash(path.join(work, 'cdktf.out'))).toEqual(before.tf);
  expect(treeHash(path.join(work, 'dist'))).toEqual(before.k8s);
});

test('npm run synth refuses a CLUSTER_CONFIG that names no file', () => {
  const run = synth(path.join(work, 'missing.yaml'));
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/CLUSTER_CONFIG: the file does not exist/);
  expect(treeHash(path.join(work, 'cdktf.out'))).toEqual(before.tf);
});

test('the cdktf app itself refuses a bad spec before writing (when run without the script)', () => {
  const file = path.join(work, 'bad-direct.yaml');
  fs.writeFileSync(file, 'controlPlane:\n  count: 0\n');
  const out = path.join(work, 'direct-out');
  const run = spawnSync('node', ['--require', REGISTER_TS, 'main.ts'], {
    cwd: work,
    env: { ...process.env, CLUSTER_CONFIG: file, CDKTF_OUTDIR: out, K8S_LAB_SECRETS_DIR: path.join(work, '.secrets') },
    encoding: 'utf8',
  });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/controlPlane\.count: must be at least 1 \(got 0\)/);
  expect(fs.existsSync(out)).toBe(false);
});

test('npm run validate says what to do when nothing was synthesized', () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'validate-'));
  try {
    fs.cpSync(path.join(ROOT, 'scripts'), path.join(empty, 'scripts'), { recursive: true });
    fs.mkdirSync(path.join(empty, '.tools'));
    fs.writeFileSync(path.join(empty, '.tools', 'env'), '');
    const run = spawnSync('bash', ['scripts/validate.sh'], { cwd: empty, encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/no stacks under cdktf\.out\/stacks; run 'npm run synth' first/);
    fs.rmSync(path.join(empty, '.tools'), { recursive: true });
    const noTools = spawnSync('bash', ['scripts/validate.sh'], { cwd: empty, encoding: 'utf8' });
    expect(noTools.status).not.toBe(0);
    expect(noTools.stderr).toMatch(/\.tools\/env is missing; run 'npm run tools' first/);
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

describe('malformed input to the other scripts a user runs', () => {
  const badSpec = () => {
    const file = path.join(work, 'bad-scripts.yaml');
    fs.writeFileSync(file, 'controlPlane:\n  vcpu: 1\n');
    return file;
  };
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(args[0], args.slice(1), { cwd: work, env: { ...process.env, K8S_LAB_SECRETS_DIR: path.join(work, '.secrets'), ...env }, encoding: 'utf8', timeout: 120_000 });

  test('npm run render refuses a bad spec (exit 2) and leaves an earlier rendered/ as it was', () => {
    const good = run(['node', '--require', REGISTER_TS, 'scripts/render.ts'], { CLUSTER_CONFIG: '' });
    expect(good.status).toBe(0);
    const before = treeHash(path.join(work, 'rendered'));
    const bad = run(['node', '--require', REGISTER_TS, 'scripts/render.ts'], { CLUSTER_CONFIG: badSpec() });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/controlPlane\.vcpu: must be at least 2 \(kubeadm's minimum\) \(got 1\)/);
    expect(treeHash(path.join(work, 'rendered'))).toEqual(before);
  });

  test('npm run policy refuses a bad spec (exit 2), naming the field', () => {
    const bad = run(['node', '--require', REGISTER_TS, 'scripts/policy.ts'], { CLUSTER_CONFIG: badSpec() });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/controlPlane\.vcpu: must be at least 2/);
  });

  test('npm run deploy/diff/destroy refuse an unknown command and a bad spec before cdktf runs', () => {
    const unknown = run(['bash', 'scripts/cdktf.sh', 'apply']);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/the first argument must be one of deploy, diff, destroy; got 'apply'/);
    fs.mkdirSync(path.join(work, '.tools'), { recursive: true });
    fs.writeFileSync(path.join(work, '.tools', 'env'), '');
    const bad = run(['bash', 'scripts/cdktf.sh', 'diff'], { CLUSTER_CONFIG: badSpec() });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid cluster spec .*\n.*controlPlane\.vcpu: must be at least 2/);
    expect(bad.stdout + bad.stderr).not.toMatch(/Synthesizing|terraform/i);
  });

  test('npm run synth names cdktf.json or cdk8s.yaml and the parse error when either is broken, and writes nothing', () => {
    const cases: [string, string, RegExp][] = [
      ['cdktf.json', '{"app": "node main.ts",', /cdktf\.json: cannot be read: .*JSON/],
      ['cdktf.json', 'null', /cdktf\.json: app must be one command line, got undefined/],
      ['cdk8s.yaml', 'app: [unclosed\n', /cdk8s\.yaml: cannot be read: /],
      ['cdk8s.yaml', 'app:\n  - node\n', /cdk8s\.yaml: app must be one command line, got \["node"\]/],
    ];
    for (const [file, text, message] of cases) {
      const original = fs.readFileSync(path.join(work, file), 'utf8');
      try {
        // GIVEN a project whose cdktf.json or cdk8s.yaml is broken
        fs.writeFileSync(path.join(work, file), text);
        // WHEN npm run synth runs
        const run = synth(undefined);
        // THEN it exits 2 naming the file and what is wrong, with no stack trace, and the outputs are untouched
        expect({ file, text, status: run.status }).toEqual({ file, text, status: 2 });
        expect(run.stderr).toMatch(message);
        expect(run.stderr).not.toMatch(/\n\s+at /);
        expect(treeHash(path.join(work, 'cdktf.out'))).toEqual(before.tf);
        expect(treeHash(path.join(work, 'dist'))).toEqual(before.k8s);
      } finally {
        fs.writeFileSync(path.join(work, file), original);
      }
    }
    // AND a missing file is named too
    fs.renameSync(path.join(work, 'cdk8s.yaml'), path.join(work, 'cdk8s.yaml.away'));
    try {
      const run = synth(undefined);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/cdk8s\.yaml: cannot be read: ENOENT/);
    } finally {
      fs.renameSync(path.join(work, 'cdk8s.yaml.away'), path.join(work, 'cdk8s.yaml'));
    }
  });

  test('npm run synth refuses an output folder that is a file or under one, or a kubeconfig path that is a folder, before either app runs', () => {
    // GIVEN a file and a folder where the other is needed
    const file = path.join(work, 'a-file');
    fs.writeFileSync(file, '');
    const folder = path.join(work, 'a-folder');
    fs.mkdirSync(folder, { recursive: true });
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ K8S_LAB_CDKTF_OUT: file }, /K8S_LAB_CDKTF_OUT must name a folder \(or one to create\), got '.*a-file', which is a file/],
      [{ K8S_LAB_CDK8S_OUT: file }, /K8S_LAB_CDK8S_OUT must name a folder \(or one to create\), got '.*a-file', which is a file/],
      [{ K8S_LAB_CDK8S_OUT: path.join(file, 'sub') }, /K8S_LAB_CDK8S_OUT must name a folder \(or one to create\), got '.*a-file\/sub', but '.*a-file' is a file/],
      [{ K8S_LAB_KUBECONFIG: folder }, /K8S_LAB_KUBECONFIG must name the kubeconfig file to write, got '.*a-folder', which is a folder/],
      [{ K8S_LAB_KUBECONFIG: path.join(file, 'sub', 'k.kubeconfig') }, /K8S_LAB_KUBECONFIG must name the kubeconfig file to write, got '.*a-file\/sub\/k\.kubeconfig', but '.*a-file' is a file, where a folder is needed/],
    ];
    for (const [env, message] of cases) {
      // WHEN npm run synth runs with it
      const synth = run(['bash', 'scripts/synth.sh'], { CLUSTER_CONFIG: '', ...env });
      // THEN it stops (bad input: exit 2) naming the variable and the value, and neither output changed
      expect(synth.status).toBe(2);
      expect(synth.stderr).toMatch(message);
      expect(treeHash(path.join(work, 'cdktf.out'))).toEqual(before.tf);
      expect(treeHash(path.join(work, 'dist'))).toEqual(before.k8s);
    }
  });

  test('the cdktf app (as cdktf synth and deploy run it) refuses a kubeconfig path under a file before it writes anything', () => {
    // GIVEN a K8S_LAB_KUBECONFIG below a file, and fresh output and secrets folders
    const file = path.join(work, 'a-file-for-the-app');
    fs.writeFileSync(file, '');
    const outDir = path.join(work, 'kubeconfig-case-out');
    const secretsDir = path.join(work, 'kubeconfig-case-secrets');
    // WHEN the app runs
    const synth = run(['node', '--require', REGISTER_TS, 'main.ts'], { K8S_LAB_KUBECONFIG: path.join(file, 'k.kubeconfig'), K8S_LAB_SECRETS_DIR: secretsDir, CDKTF_OUTDIR: outDir, CLUSTER_CONFIG: '' });
    // THEN it exits 1 with one line naming the variable, and wrote neither the stack, nor secrets, nor a kubeconfig
    expect({ status: synth.status, stderr: synth.stderr }).toEqual({
      status: 1,
      stderr: expect.stringMatching(/^synth failed: K8S_LAB_KUBECONFIG must name the kubeconfig file to write, got '.*a-file-for-the-app\/k\.kubeconfig', but '.*a-file-for-the-app' is a file, where a folder is needed\n$/),
    });
    expect([fs.existsSync(outDir), fs.existsSync(secretsDir)]).toEqual([false, false]);
  });

  test('synth and policy end with one line naming the file, not a stack trace, when secrets.json does not parse or the secrets folder is a file', () => {
    // GIVEN a secrets folder that is a file, and a secrets.json that is not JSON
    const notADir = path.join(work, 'secrets-is-a-file');
    fs.writeFileSync(notADir, '');
    const broken = path.join(work, 'broken-secrets');
    fs.mkdirSync(path.join(broken, 'k8s-lab'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(broken, 'k8s-lab', 'secrets.json'), '{"bootstrapToken": ', { mode: 0o600 });
    const app = (secretsDir: string) =>
      run(['node', '--require', REGISTER_TS, 'main.ts'], { K8S_LAB_SECRETS_DIR: secretsDir, CDKTF_OUTDIR: path.join(work, 'secrets-case-out'), CLUSTER_CONFIG: '' });
    // WHEN synth runs with each THEN it exits 1 with one line naming the path
    const cases: [string, RegExp][] = [
      [notADir, /^synth failed: the secrets folder .*secrets-is-a-file is a file; K8S_LAB_SECRETS_DIR names the folder the secrets go in \(default \.secrets\)\n$/],
      [broken, /^synth failed: .*broken-secrets\/k8s-lab\/secrets\.json: \(file\) is not valid JSON \(Unexpected end of JSON input\); fix it, or delete it.*\n$/],
    ];
    for (const [secretsDir, message] of cases) {
      const synth = app(secretsDir);
      expect({ status: synth.status, stderr: synth.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(message) });
    }
    // AND policy says the same of the broken file
    const policy = run(['node', '--require', REGISTER_TS, 'scripts/policy.ts'], { K8S_LAB_SECRETS_DIR: broken, CLUSTER_CONFIG: '' });
    expect({ status: policy.status, stderr: policy.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(/^policy failed: .*secrets\.json: \(file\) is not valid JSON.*\n$/) });
  });

  test.each<[string, string[], RegExp]>([
    ['a positional argument', ['foo'], /Unexpected argument 'foo'/],
    ['an unknown option', ['--bogus'], /Unknown option '--bogus'/],
    ['--state without a file', ['--state'], /Option '--state <value>' argument missing/],
    ['--state with an empty file name', ['--state='], /--state needs a file, got ""/],
    ['--record naming a folder', ['--record', '/tmp'], /--record must name a file to write, got "\/tmp", which is a folder/],
    ['--record in a folder that does not exist', ['--record', '/nonexistent-k8s-lab/x.json'], /--record must name a file to write, .* which is in \/nonexistent-k8s-lab, which does not exist/],
    ['--record under a file', ['--record', '/proc/version/x.json'], /--record must name a file to write, .* which is in \/proc\/version, which is a file/],
  ])('npm run preflight refuses %s (exit 2, with its usage) before it asks the host anything', (_name, args, message) => {
    const bad = run(['node', '--require', REGISTER_TS, 'scripts/preflight.ts', ...args], { CLUSTER_CONFIG: '' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(message);
    expect(bad.stderr).toMatch(/usage: preflight \[--state FILE\] \[--record FILE\]/);
    expect(bad.stderr).not.toMatch(/cluster spec:/);
  });

  test('npm run preflight refuses an invalid spec (exit 2, every problem named) before it asks the host anything', () => {
    // GIVEN a spec with a typo
    const spec = path.join(work, 'preflight-bad-spec.yaml');
    fs.writeFileSync(spec, 'controlPlane: {cont: 3}\n');
    // WHEN the preflight runs on it THEN it exits 2, naming the key, and printed no host finding
    const bad = run(['node', '--require', REGISTER_TS, 'scripts/preflight.ts'], { CLUSTER_CONFIG: spec });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/controlPlane\.cont: unknown key/);
    expect(bad.stderr).not.toMatch(/cluster spec:|libvirt/);
  });

  test('npm run bench refuses a bad BENCH_RUNS before measuring anything', () => {
    const bad = run(['node', '--require', REGISTER_TS, 'scripts/bench.ts'], { BENCH_RUNS: 'many' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/BENCH_RUNS must be a whole number from 1 to 50, got "many"/);
  });
});
