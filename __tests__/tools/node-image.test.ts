import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { DEFAULT_KUBERNETES_VERSION, parseClusterSpec, planCluster } from '../../spec';
import { BAKED_FLANNEL_CNI_PLUGIN_IMAGE, FLANNEL_VERSION, cniInstall } from '../../bootstrap';
import { ROOT, requireTool, runTool, runWithTools } from '../support/tools';

// The node image `npm run image` built (.tools/node-image → its cache folder): what is inside,
// checked with the real tools — kubeadm's own image list, a real containerd's `ctr images import`,
// and the binaries themselves.

interface ImageManifest {
  kubernetesVersion: string;
  components: { name: string; version: string; path: string; sha256: string }[];
  images: { name: string; version: string; archive: string; sha256: string }[];
  cni: { name: string; version: string; manifest: string; sha256: string; imageOverrides: { name: string; newName: string; newTag: string }[] };
}

const imageDir = path.join(ROOT, '.tools', 'node-image');
const version = `v${DEFAULT_KUBERNETES_VERSION}`;
let manifest: ImageManifest;
let extracted: string;

/** Extracts members of a tarball into `dir` (tar's own wildcards). */
function untar(tarball: string, dir: string, members: readonly string[], gzip = false): void {
  const r = spawnSync('tar', [gzip ? '-xzf' : '-xf', tarball, '-C', dir, '--wildcards', ...members], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar ${tarball} ${members.join(' ')}: ${r.stderr}`);
}
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The files of an image archive's last layer, extracted into a fresh folder. */
function lastLayerOf(archive: string): string {
  const dir = fs.mkdtempSync(path.join(extracted, 'layer-'));
  untar(archive, dir, ['manifest.json']);
  const layers = (JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[])[0].Layers;
  const last = layers[layers.length - 1];
  untar(archive, dir, [last]);
  const files = path.join(dir, 'files');
  fs.mkdirSync(files);
  untar(path.join(dir, last), files, ['*'], true);
  return files;
}

beforeAll(() => {
  if (!fs.existsSync(path.join(imageDir, 'rootfs.tar'))) throw new Error(`${imageDir}/rootfs.tar is missing; run 'npm run image' (after 'npm run tools')`);
  manifest = JSON.parse(fs.readFileSync(path.join(imageDir, 'image-manifest.json'), 'utf8')) as ImageManifest;
  extracted = fs.mkdtempSync(path.join(os.tmpdir(), 'node-image-'));
  untar(path.join(imageDir, 'rootfs.tar'), extracted, ['./usr/bin/kube*', './opt/k8s-lab/*']);
});

afterAll(() => {
  if (extracted) fs.rmSync(extracted, { recursive: true, force: true });
});

describe('the node image manifest', () => {
  test('lists every image `kubeadm config images list` prints for the pinned release, plus flannel\'s and agnhost', () => {
    const listed = runWithTools('kubeadm', ['config', 'images', 'list', `--kubernetes-version=${version}`]);
    expect(listed.status).toBe(0);
    const wanted = listed.stdout.split('\n').filter(Boolean);
    expect(wanted.length).toBeGreaterThanOrEqual(7);
    const names = manifest.images.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(wanted));
    expect(names).toContain(`ghcr.io/flannel-io/flannel:${FLANNEL_VERSION}`);
    expect(names).toContain('registry.k8s.io/e2e-test-images/agnhost:2.63.0');
    expect(names.filter((n) => n.includes('flannel-cni-plugin'))).toHaveLength(1);
  });

  test('is the one inside the rootfs, and every sha256 it states matches the file in the rootfs', () => {
    expect(JSON.parse(fs.readFileSync(path.join(extracted, 'opt/k8s-lab/image-manifest.json'), 'utf8'))).toEqual(manifest);
    for (const entry of [...manifest.components.map((c) => ({ file: c.path, sha256: c.sha256 })), ...manifest.images.map((i) => ({ file: i.archive, sha256: i.sha256 })), { file: manifest.cni.manifest, sha256: manifest.cni.sha256 }]) {
      expect({ file: entry.file, sha256: sha256(path.join(extracted, entry.file)) }).toEqual(entry);
    }
  });

  test('the CNI manifest is flannel\'s own at the pinned version, and the override names the baked CNI plugin image', () => {
    const text = fs.readFileSync(path.join(extracted, manifest.cni.manifest), 'utf8');
    expect(manifest.cni).toMatchObject({ name: 'flannel', version: FLANNEL_VERSION });
    expect(text).toContain(`image: ghcr.io/flannel-io/flannel:${FLANNEL_VERSION}`);
    const [override] = manifest.cni.imageOverrides;
    expect(text).toContain(`image: ${override.name}:`);
    expect(manifest.images.map((i) => i.name)).toContain(`${override.newName}:${override.newTag}`);
  });
});

test('the prebaked CNI kustomization over the baked kube-flannel.yml (kubectl kustomize) sets the pod network and names only baked images', () => {
  const plan = planCluster(parseClusterSpec({ image: { prebaked: true }, kubernetes: { cni: 'flannel', podCidr: '10.77.0.0/16' } }, 'test').spec);
  const dir = fs.mkdtempSync(path.join(extracted, 'cni-'));
  fs.copyFileSync(path.join(extracted, manifest.cni.manifest), path.join(dir, 'kube-flannel.yml'));
  for (const f of cniInstall(plan).files) fs.writeFileSync(path.join(dir, path.basename(f.path)), f.content);
  const built = runWithTools('kubectl', ['kustomize', dir]);
  expect(built.status).toBe(0);
  const docs = YAML.parseAllDocuments(built.stdout).map((d) => d.toJS() as { kind: string; data?: Record<string, string>; spec?: { template: { spec: { containers: { image: string }[]; initContainers?: { image: string }[] } } } });
  const netConf = JSON.parse(docs.find((d) => d.kind === 'ConfigMap')!.data!['net-conf.json']) as { Network: string };
  expect(netConf.Network).toBe('10.77.0.0/16');
  const pod = docs.find((d) => d.kind === 'DaemonSet')!.spec!.template.spec;
  const images = [...(pod.initContainers ?? []), ...pod.containers].map((c) => c.image);
  expect(images).toContain(`${BAKED_FLANNEL_CNI_PLUGIN_IMAGE.bakedName}:${BAKED_FLANNEL_CNI_PLUGIN_IMAGE.bakedTag}`);
  expect(images.filter((i) => !manifest.images.some((m) => m.name === i))).toEqual([]);

  // The conflist the install-cni init container writes must ask for a CNI version the baked plugin speaks.
  const cniConf = JSON.parse(docs.find((d) => d.kind === 'ConfigMap')!.data!['cni-conf.json']) as { cniVersion: string; plugins: { type: string }[] };
  const plugin = manifest.images.find((i) => i.name === `${BAKED_FLANNEL_CNI_PLUGIN_IMAGE.bakedName}:${BAKED_FLANNEL_CNI_PLUGIN_IMAGE.bakedTag}`)!;
  const answer = runTool(path.join(lastLayerOf(path.join(extracted, plugin.archive)), 'flannel'), [], { env: { CNI_COMMAND: 'VERSION' } });
  expect(cniConf.plugins[0].type).toBe('flannel');
  expect((JSON.parse(answer.output) as { supportedVersions: string[] }).supportedVersions).toContain(cniConf.cniVersion);
});

describe('each image archive imports into a real containerd', () => {
  let containerd: ChildProcess | undefined;
  let state: string;
  const ctr = (args: readonly string[]) => runTool('ctr', ['--address', path.join(state, 'containerd.sock'), '--namespace', 'k8s.io', ...args], { timeoutMs: 300_000 });

  beforeAll(async () => {
    requireTool('containerd');
    state = fs.mkdtempSync(path.join(os.tmpdir(), 'ctr-import-'));
    containerd = spawn('containerd', ['--config', '/dev/null', '--root', path.join(state, 'root'), '--state', path.join(state, 'state'), '--address', path.join(state, 'containerd.sock')], { stdio: 'ignore' });
    for (let i = 0; i < 100 && ctr(['version']).status !== 0; i++) await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(async () => {
    if (containerd && containerd.exitCode === null) {
      const gone = new Promise((r) => containerd!.once('exit', r));
      containerd.kill('SIGTERM');
      // SIGKILL if it has not gone in 10 s: the hook must not wait out the tier's timeout.
      const timer = setTimeout(() => containerd!.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    if (state) fs.rmSync(state, { recursive: true, force: true });
  });

  test('ctr images import accepts every archive and ctr images ls shows it under its manifest name', () => {
    for (const image of manifest.images) {
      const imported = ctr(['images', 'import', path.join(extracted, image.archive)]);
      expect({ archive: image.archive, status: imported.status, output: imported.status === 0 ? '' : imported.output }).toEqual({ archive: image.archive, status: 0, output: '' });
    }
    const listed = ctr(['images', 'ls', '--quiet']).output.split('\n');
    expect(listed).toEqual(expect.arrayContaining(manifest.images.map((i) => i.name)));
  });
});

describe('the binaries are the pinned releases', () => {
  test.each(['kubelet', 'kubeadm', 'kubectl'])('%s in the rootfs (/usr/bin) reports the pinned Kubernetes version', (name) => {
    const args = name === 'kubeadm' ? ['version', '-o', 'short'] : name === 'kubectl' ? ['version', '--client'] : ['--version'];
    const r = runTool(path.join(extracted, 'usr/bin', name), args);
    expect(r.status).toBe(0);
    expect(r.output).toContain(version);
  });

  // npm run tools and npm run image build kubeadm and kubectl from one module with the same flags, so
  // Go's build cache compiles Kubernetes' packages once for both; a flag that differs (cgo) shows here.
  test.each(['kubeadm', 'kubectl'])('the tools\' %s (.tools/bin) is byte for byte the one in the rootfs: the two builds share their compiled packages', (name) => {
    expect(sha256(path.join(ROOT, '.tools', 'bin', name))).toBe(sha256(path.join(extracted, 'usr/bin', name)));
  });

  test.each(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'])('%s in its image reports the pinned Kubernetes version', (name) => {
    const archive = manifest.images.find((i) => i.name.includes(`/${name}:`))!.archive;
    const r = runTool(path.join(lastLayerOf(path.join(extracted, archive)), 'usr/local/bin', name), ['--version']);
    expect(r.output.trim()).toBe(`Kubernetes ${version}`);
  });

  test('etcd and CoreDNS in their images report the versions in their image tags', () => {
    const etcd = manifest.images.find((i) => i.name.includes('/etcd:'))!;
    const etcdOut = runTool(path.join(lastLayerOf(path.join(extracted, etcd.archive)), 'usr/local/bin/etcd'), ['--version']).output;
    expect(etcdOut).toContain(`etcd Version: ${etcd.version.replace(/-\d+$/, '')}`);
    const coredns = manifest.images.find((i) => i.name.includes('/coredns:'))!;
    expect(runTool(path.join(lastLayerOf(path.join(extracted, coredns.archive)), 'coredns'), ['-version']).output).toContain(`CoreDNS-${coredns.version.replace(/^v/, '')}`);
  });

  test('pause runs, and exits 0 on SIGTERM', async () => {
    const pause = manifest.images.find((i) => i.name.includes('/pause:'))!;
    const bin = path.join(lastLayerOf(path.join(extracted, pause.archive)), 'pause');
    expect(runTool(bin, ['-v']).output).toContain(`v${pause.version}`);
    const child = spawn(bin, [], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBeNull();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    expect(await exited).toBe(0);
    clearTimeout(timer);
  });
});

test('npm run image refuses, before building anything, a spec whose Kubernetes version is not the one it builds', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-spec-'));
  try {
    const spec = path.join(dir, 'cluster.yaml');
    fs.writeFileSync(spec, 'kubernetes:\n  version: 1.37.2\n');
    const r = runWithTools('bash', [path.join(ROOT, 'scripts/image/build.sh')], { env: { CLUSTER_CONFIG: spec, K8S_LAB_CACHE_DIR: path.join(dir, 'cache') }, timeoutMs: 120_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/kubernetes\.version is 1\.37\.2, but the node image builds Kubernetes v1\.36\.3/);
    expect(fs.existsSync(path.join(dir, 'cache'))).toBe(false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the image build scripts are shellcheck-clean', () => {
  const r = runWithTools('shellcheck', ['-x', '--severity=style', 'scripts/image/build.sh', 'scripts/image/lib.sh']);
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
