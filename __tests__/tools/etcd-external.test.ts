import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { Testing } from 'cdktf';
import { etcdFirewallRulesForCluster, kubeadmDocuments, renderKubeadmConfig, renderNodeFiles } from '../../bootstrap';
import { ClusterStack } from '../../constructs';
import { EtcdTopology, parseClusterSpec } from '../../spec';
import { nodeOf, planOf, shellScriptsOf } from '../fixtures/bootstrap-helpers';
import { FAKE_SECRETS_WITH_ETCD } from '../fixtures/fake-secrets';
import { requireTool, terraformValidate } from '../support/tools';

// The external-etcd topology checked by the real tools: cloud-init schema and shellcheck on the etcd
// member's and the control planes' user-data, nft -c on the etcd firewall, the real kubeadm's
// config validate on etcd.external, terraform validate on the whole stack. Each has a negative case.

const EXTERNAL = { etcd: { topology: EtcdTopology.EXTERNAL } };
const plan = planOf(EXTERNAL);
const nodes = [nodeOf(plan, 'etcd-1'), nodeOf(plan, 'etcd-3'), nodeOf(plan, 'cp-1'), nodeOf(plan, 'cp-2')];
const userData = (hostname: string) => renderNodeFiles(plan, plan.nodes.find((n) => n.hostname === hostname)!, FAKE_SECRETS_WITH_ETCD)['user-data'];
const KUBEADM = path.join(__dirname, '..', '..', '.tools', 'bin', 'kubeadm');

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'etcd-external-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function run(cmd: string, args: string[], fileName: string, content: string): { status: number | null; output: string } {
  const file = path.join(tmp, fileName);
  fs.writeFileSync(file, content, { mode: 0o600 });
  const r = spawnSync(cmd, [...args, file], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('cloud-init schema (Debian cloud-init 22.4)', () => {
  beforeAll(() => requireTool('cloud-init'));
  test.each(nodes.map((n) => [n.hostname]))('%s: valid', (hostname) => {
    const r = run('cloud-init', ['schema', '--config-file'], `${hostname}.yaml`, userData(hostname));
    expect(r.output).toMatch(/Valid cloud-config/);
    expect(r.status).toBe(0);
  });
  test('rejects the etcd user-data with a numeric file mode (the check can fail)', () => {
    const doc = YAML.parse(userData('k8s-lab-etcd-1'));
    doc.write_files[0].permissions = 644;
    const r = run('cloud-init', ['schema', '--config-file'], 'bad.yaml', '#cloud-config\n' + YAML.stringify(doc));
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/write_files\.0\.permissions: 644 is not of type 'string'/);
  });
});

describe('shellcheck 0.9', () => {
  beforeAll(() => requireTool('shellcheck'));
  const scripts = nodes.flatMap((n) => shellScriptsOf(userData(n.hostname)).map((s) => [`${n.hostname} ${s.name}`, s.text] as const));
  test('the etcd-member and etcd-client steps are among the scripts (the extraction finds them)', () => {
    expect(scripts.some(([name]) => name.endsWith('k8s-lab-etcd-member.sh'))).toBe(true);
    expect(scripts.some(([name]) => name.endsWith('k8s-lab-etcd-client.sh'))).toBe(true);
  });
  test.each(scripts)('%s is clean', (name, text) => {
    const r = run('shellcheck', ['--severity=style', '--format=gcc'], name.replace(/[^a-z0-9.-]+/gi, '_'), text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });
  test('flags an unquoted variable in the etcd step (the check can fail)', () => {
    const text = shellScriptsOf(userData('k8s-lab-etcd-1')).find((s) => s.name.endsWith('etcd-member.sh'))!.text.replace('"${rootfs}"', '${rootfs}');
    const r = run('shellcheck', ['--severity=style', '--format=gcc'], 'bad.sh', text);
    expect(r.output).toMatch(/SC2086/);
  });
});

describe('nft -c (Debian nftables)', () => {
  beforeAll(() => requireTool('nft'));
  test('accepts the rendered etcd firewall', () => {
    const r = run('nft', ['-c', '-f'], 'etcd.nft', etcdFirewallRulesForCluster(plan).join('\n') + '\n');
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });
  test('rejects a ruleset whose set type is wrong (the check can fail)', () => {
    const r = run('nft', ['-c', '-f'], 'bad.nft', etcdFirewallRulesForCluster(plan).join('\n').replace('type ipv4_addr', 'type ipv9_addr') + '\n');
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/unknown datatype ipv9_addr/);
  });
});

describe('kubeadm config validate (the real kubeadm)', () => {
  const kubeadm = (text: string, name: string) => {
    if (!fs.existsSync(KUBEADM)) throw new Error(`kubeadm is missing (expected the real binary at ${KUBEADM}); run \`npm run tools\` to build it`);
    return run(KUBEADM, ['config', 'validate', '--config'], name, text);
  };
  test('accepts the first control plane\'s config with etcd.external', () => {
    const text = renderKubeadmConfig(plan, nodeOf(plan, 'cp-1'), FAKE_SECRETS_WITH_ETCD);
    expect(text).toContain('external:');
    const r = kubeadm(text, 'cp-1.yaml');
    expect(r.output).toMatch(/ok/);
    expect(r.status).toBe(0);
  });
  test('rejects etcd.external with a misspelt field (strict decoding: the check can fail)', () => {
    const docs = JSON.parse(JSON.stringify(kubeadmDocuments(plan, nodeOf(plan, 'cp-1'), FAKE_SECRETS_WITH_ETCD)));
    // Every real field stays: only the unknown one can make kubeadm refuse.
    docs[1].etcd.external.endpoint = docs[1].etcd.external.endpoints[0];
    const r = kubeadm(docs.map((d: object) => YAML.stringify(d)).join('---\n'), 'bad.yaml');
    expect(r.output).toMatch(/strict decoding error: unknown field "etcd\.external\.endpoint"/);
    expect(r.status).not.toBe(0);
  });
});

describe('terraform validate (the real libvirt provider)', () => {
  test('accepts the external-etcd cluster (9 domains)', () => {
    const { spec } = parseClusterSpec(EXTERNAL);
    const stack = new ClusterStack(Testing.app(), { spec, secrets: FAKE_SECRETS_WITH_ETCD });
    const dir = path.join(Testing.fullSynth(stack), 'stacks', spec.name);
    const tf = JSON.parse(fs.readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8'));
    expect(Object.keys(tf.resource.libvirt_domain)).toHaveLength(9);
    const result = terraformValidate(dir);
    expect(result.diagnostics).toBe('');
    expect(result.valid).toBe(true);
  });
});
