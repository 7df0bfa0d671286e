import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { REGISTER_TS, ROOT } from '../support/tools';

// One spec, two outputs: a worker pool given through CLUSTER_CONFIG reaches both the kubelets' registration
// (kubeadm node-labels in the VMs' user-data, in the seed cdktf synth writes: the pool label and the pool's
// own labels) and the pinned workload's nodeSelector (as synthesized by cdk8s: the pool label, which a node
// keeps for life, where an edited label would reach only new nodes).

let tmp: string;
beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'one-truth-'))));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Synthesizes both apps for a spec whose 'general' pool carries `labels`. */
function synthBoth(name: string, labels: Record<string, string>) {
  fs.mkdirSync(path.join(tmp, name), { recursive: true });
  const spec = path.join(tmp, `${name}.yaml`);
  fs.writeFileSync(spec, YAML.stringify({ workerPools: [{ name: 'general', count: 1, labels }] }));
  const env = { ...process.env, CLUSTER_CONFIG: spec, CDKTF_OUTDIR: path.join(tmp, name, 'tf'), K8S_LAB_SECRETS_DIR: path.join(tmp, '.secrets') };
  const tf = spawnSync('node', ['--require', REGISTER_TS, 'main.ts'], { cwd: ROOT, env, encoding: 'utf8' });
  const k8s = spawnSync('npx', ['cdk8s', 'synth', '--output', path.join(tmp, name, 'dist'), '--no-check-upgrade'], { cwd: ROOT, env, encoding: 'utf8' });
  expect({ tf: tf.status, k8s: k8s.status, err: tf.status || k8s.status ? tf.stderr + k8s.stderr : '' }).toEqual({ tf: 0, k8s: 0, err: '' });

  // The worker's user-data as the VM gets it: out of the NoCloud seed image its volume is uploaded from.
  const stackDir = path.join(tmp, name, 'tf', 'stacks', 'k8s-lab');
  const stack = JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
  const seed = Object.values(stack.resource.libvirt_volume as Record<string, { name: string; source?: string }>).find((v) => v.name.startsWith('k8s-lab-worker-general-1-seed-'));
  const userData = spawnSync('isoinfo', ['-R', '-x', '/user-data', '-i', path.join(stackDir, seed!.source!)], { encoding: 'utf8' }).stdout;
  const nodeLabels = /- name: node-labels\n\s+value: (\S+)/.exec(userData)?.[1];
  const pinned = YAML.parseAllDocuments(fs.readFileSync(path.join(tmp, name, 'dist', 'pool-pinned.k8s.yaml'), 'utf8')).map((d) => d.toJS());
  const deployment = pinned.find((o) => o.kind === 'Deployment');
  return { nodeLabels, nodeSelector: deployment.spec.template.spec.nodeSelector as Record<string, string> };
}

test('a pool given in CLUSTER_CONFIG: its kubelets register with its labels and the pool label, and the pinned workload selects the pool label', () => {
  // GIVEN the pool labelled disk=ssd, then disk=nvme
  const ssd = synthBoth('ssd', { disk: 'ssd' });
  const nvme = synthBoth('nvme', { disk: 'nvme' });
  // THEN the worker registers with the labels the spec gives
  expect(ssd.nodeLabels).toBe('disk=ssd,k8s-lab.io/pool=general');
  expect(nvme.nodeLabels).toBe('disk=nvme,k8s-lab.io/pool=general');
  // AND the workload selects what every worker of the pool carries for life, whatever the other labels
  expect(ssd.nodeSelector).toEqual({ 'k8s-lab.io/pool': 'general' });
  expect(nvme.nodeSelector).toEqual({ 'k8s-lab.io/pool': 'general' });
});
