import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderCluster } from '../../scripts/render';
import fake from '../fixtures/fake-secrets.json';
import { ROOT, runWithTools, terraformBinary } from '../support/tools';

// `npm run render` shows a person what each VM gets. This proves it is exactly what `cdktf synth`
// hands the provider: Terraform itself evaluates every cloud-init disk's user_data and meta_data
// from the synthesized JSON (its own template unescaping included), and the values must equal the
// rendered files byte for byte.

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'render-vs-tf-'));
  // GIVEN the fake secret set as the cluster's secrets, and the default spec
  const secrets = path.join(tmp, '.secrets', 'k8s-lab');
  fs.mkdirSync(secrets, { recursive: true, mode: 0o700 });
  const { _comment, ...values } = fake;
  void _comment;
  fs.writeFileSync(path.join(secrets, 'secrets.json'), JSON.stringify(values), { mode: 0o600 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('rendered/ equals the user-data and meta-data Terraform evaluates from cdk.tf.json', () => {
  // WHEN the app is synthesized and the cluster rendered with the same spec and secrets
  const out = path.join(tmp, 'cdktf.out');
  fs.writeFileSync(path.join(tmp, 'spec.yaml'), '{}\n');
  const synth = spawnSync('node', ['--require', 'ts-node/register/transpile-only', 'main.ts'], {
    cwd: ROOT,
    env: { ...process.env, CDKTF_OUTDIR: out, K8S_LAB_SECRETS_DIR: path.join(tmp, '.secrets'), CLUSTER_CONFIG: path.join(tmp, 'spec.yaml') },
    encoding: 'utf8',
  });
  expect({ status: synth.status, stderr: synth.status === 0 ? '' : synth.stderr }).toEqual({ status: 0, stderr: '' });
  const written = renderCluster({ CLUSTER_CONFIG: path.join(tmp, 'spec.yaml') }, tmp);
  expect(written.length).toBeGreaterThanOrEqual(6 * 2);

  // AND Terraform evaluates each disk's strings as outputs (no provider involved)
  const tf = JSON.parse(fs.readFileSync(path.join(out, 'stacks', 'k8s-lab', 'cdk.tf.json'), 'utf8'));
  const disks = tf.resource.libvirt_cloudinit_disk as Record<string, { name: string; user_data: string; meta_data: string }>;
  const outputs: Record<string, { value: string }> = {};
  for (const disk of Object.values(disks)) {
    const host = disk.name.replace(/-cloudinit\.iso$/, '');
    outputs[`${host}__user-data`.replace(/[^A-Za-z0-9_-]/g, '_')] = { value: disk.user_data };
    outputs[`${host}__meta-data`.replace(/[^A-Za-z0-9_-]/g, '_')] = { value: disk.meta_data };
  }
  const evalDir = path.join(tmp, 'eval');
  fs.mkdirSync(evalDir);
  fs.writeFileSync(path.join(evalDir, 'main.tf.json'), JSON.stringify({ output: outputs }));
  const bin = terraformBinary();
  const apply = runWithTools(bin, [`-chdir=${evalDir}`, 'apply', '-auto-approve', '-input=false', '-no-color']);
  expect({ status: apply.status, output: apply.status === 0 ? '' : apply.stdout + apply.stderr }).toEqual({ status: 0, output: '' });
  const values = JSON.parse(runWithTools(bin, [`-chdir=${evalDir}`, 'output', '-json']).stdout) as Record<string, { value: string }>;

  // THEN every node's rendered files are exactly what Terraform will write into its ISO
  const hosts = fs.readdirSync(path.join(tmp, 'rendered')).sort();
  expect(hosts).toHaveLength(6);
  expect(Object.keys(values)).toHaveLength(hosts.length * 2);
  for (const host of hosts) {
    for (const file of ['user-data', 'meta-data']) {
      const key = `${host}__${file}`.replace(/[^A-Za-z0-9_-]/g, '_');
      const rendered = fs.readFileSync(path.join(tmp, 'rendered', host, file), 'utf8');
      expect({ host, file, same: values[key]?.value === rendered }).toEqual({ host, file, same: true });
    }
  }
  // (and the shell inside really does contain the characters Terraform would otherwise interpolate)
  expect(fs.readFileSync(path.join(tmp, 'rendered', 'k8s-lab-cp-1', 'user-data'), 'utf8')).toMatch(/\$\{/);
});
