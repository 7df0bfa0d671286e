import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { BAKED_FLANNEL_CNI_PLUGIN_IMAGE, NODE_IMAGE_PATHS, bakedCniManifest, bakedImageArchive, etcdReleaseFor, renderNodeFiles } from '../../bootstrap';
import { Cni, EtcdTopology, NodeRole, parseClusterSpec } from '../../spec';
import { FAKE_SECRETS, FAKE_SECRETS_WITH_ETCD } from '../fixtures/fake-secrets';
import { fileAt, nodeOf, planOf, userDataOf, userDataText } from '../fixtures/bootstrap-helpers';

// spec.image.prebaked: the nodes boot the k8s-lab node image (/work/brief/IMAGE-CONTRACT.md, bootstrap/node-image.ts),
// so the bootstrap checks what is baked and installs nothing from the network.

const PREBAKED = { image: { prebaked: true }, kubernetes: { cni: Cni.FLANNEL } } as const;
const plan = planOf(PREBAKED);
const online = planOf({ kubernetes: { cni: Cni.FLANNEL } });
const externalEtcd = planOf({ ...PREBAKED, etcd: { topology: EtcdTopology.EXTERNAL } });
const twoLbs = planOf({ ...PREBAKED, loadBalancer: { count: 2, virtualIp: '192.168.150.2' } });
const script = (step: string) => `/usr/local/sbin/k8s-lab-${step}.sh`;

/** Every node of every prebaked topology, with its user-data text. */
const everyNode = [plan, externalEtcd, twoLbs].flatMap((p) =>
  p.nodes.map((n) => [`${p === plan ? 'default' : p === externalEtcd ? 'external etcd' : 'two load balancers'}: ${n.hostname}`, renderNodeFiles(p, n, FAKE_SECRETS_WITH_ETCD)['user-data']] as const),
);

describe('spec: image.prebaked', () => {
  test('defaults to false', () => {
    expect(parseClusterSpec({}).spec.image.prebaked).toBe(false);
  });
  test('fails when image.prebaked is true with cni calico (the image bakes flannel only), naming the field and value', () => {
    expect(() => parseClusterSpec({ image: { prebaked: true } })).toThrow(
      /kubernetes\.cni: must be flannel when image\.prebaked is true: the node image bakes only flannel's images and manifest \(got "calico"\)/,
    );
  });
  test('fails when image.prebaked is not a boolean', () => {
    expect(() => parseClusterSpec({ image: { prebaked: 'yes' as unknown as boolean }, kubernetes: { cni: Cni.FLANNEL } })).toThrow(/image\.prebaked: must be true or false \(got "yes"\)/);
  });
});

describe('prebaked: nothing from the network, on any node', () => {
  test.each(everyNode)('%s: no apt, no curl download, no gpg, no registry pull, no package_update', (_name, text) => {
    const config = YAML.parse(text);
    expect(config.package_update).toBe(false);
    expect(config.package_upgrade).toBe(false);
    expect(config).not.toHaveProperty('packages');
    expect(text).not.toMatch(/apt-get|apt-mark|gpg |pkgs\.k8s\.io|images pull|github\.com|raw\.githubusercontent/);
    // curl remains only as a probe of the cluster's own endpoints, never a download: no -o FILE (but /dev/null), -O or pipe
    for (const line of text.split('\n').filter((l) => /\bcurl\b/.test(l))) expect(line).not.toMatch(/curl .*(-o (?!\/dev\/null)|-O\b|\| *\w)/);
  });
  test('the online renders of the same spec do use apt (the assertion above can fail)', () => {
    expect(userDataText(online, online.workers[0])).toMatch(/apt-get install/);
    expect(userDataOf(online, online.workers[0]).package_update).toBe(true);
  });
});

describe('prebaked prepare-node', () => {
  const config = userDataOf(plan, plan.workers[0]);
  const prepare = fileAt(config, script('prepare-node')).content;

  test('renders a version check of kubeadm, kubelet and kubectl against v<kubernetes.version>', () => {
    expect(prepare).toContain('readonly kubernetes_version=v1.36.3');
    expect(prepare).toContain('check_baked kubeadm "$(kubeadm version -o short)"');
    expect(prepare).toContain(`check_baked kubelet "$(kubelet --version | awk '{print $NF}')"`);
    expect(prepare).toContain('check_baked kubectl "$(kubectl version --client -o json');
  });
  test('renders the version check before anything that changes the node (swap, sysctls, containerd)', () => {
    const check = prepare.indexOf('if ((baked_mismatch)); then');
    expect(check).toBeGreaterThan(0);
    for (const later of ['swapoff -a', 'set_sysctl net.ipv4.ip_forward', 'systemctl restart containerd', 'ctr -n k8s.io images import']) {
      expect(prepare.indexOf(later)).toBeGreaterThan(check);
    }
  });
  test('renders a loop that imports every archive of /opt/k8s-lab/images with ctr -n k8s.io images import, after containerd is started', () => {
    expect(prepare).toContain(`readonly image_dir=${NODE_IMAGE_PATHS.imageDir}`);
    expect(prepare).toContain('archives=("${image_dir}"/*.tar)');
    expect(prepare).toMatch(/for archive in "\$\{archives\[@\]\}"; do\n[^\n]*\n\s+ctr -n k8s\.io images import "\$\{archive\}"\ndone/);
    expect(prepare.indexOf('ctr -n k8s.io images import')).toBeGreaterThan(prepare.indexOf('systemctl enable --now containerd'));
  });
  test('renders systemctl enable kubelet (the baked kubelet)', () => {
    expect(prepare).toContain('systemctl enable kubelet');
  });
  test('writes no apt source or pin; keeps modules, sysctls, containerd and crictl files as online', () => {
    const paths = config.write_files.map((f) => f.path);
    expect(paths).not.toEqual(expect.arrayContaining(['/etc/k8s-lab/apt/kubernetes.list']));
    expect(paths).not.toEqual(expect.arrayContaining(['/etc/apt/preferences.d/k8s-lab-kubernetes']));
    const onlineConfig = userDataOf(online, online.workers[0]);
    for (const p of ['/etc/modules-load.d/k8s-lab.conf', '/etc/sysctl.d/99-k8s-lab.conf', '/etc/k8s-lab/containerd/config.toml', '/etc/crictl.yaml', '/etc/k8s-lab/kubeadm.yaml']) {
      expect(fileAt(config, p)).toEqual(fileAt(onlineConfig, p));
    }
  });
});

describe('prebaked first control plane', () => {
  const config = userDataOf(plan, plan.controlPlanes[0]);
  const init = fileAt(config, script('init-control-plane')).content;

  test('copies the baked kube-flannel.yml into the CNI kustomization instead of downloading it', () => {
    expect(bakedCniManifest(Cni.FLANNEL)).toBe('/opt/k8s-lab/cni/kube-flannel.yml');
    expect(init).toContain('readonly cni_manifest_baked=/opt/k8s-lab/cni/kube-flannel.yml');
    expect(init).toContain('readonly cni_manifest=/etc/k8s-lab/cni/kube-flannel.yml');
    expect(init).toMatch(/if ! cmp -s "\$\{cni_manifest_baked\}" "\$\{cni_manifest\}"; then\n\s+install -m 0644 "\$\{cni_manifest_baked\}" "\$\{cni_manifest\}"\nfi/);
    expect(init).not.toMatch(/curl|cni_manifest_url/);
  });
  test('renders a check that exits 1, naming the file, when the baked manifest is missing', () => {
    expect(init).toMatch(/if \[\[ ! -s "\$\{cni_manifest_baked\}" \]\]; then\n\s+echo "\$\{cni_manifest_baked\} is missing[^\n]*>&2\n\s+exit 1/);
  });
  test('applies it through the same pod-network patch as the online path, with the baked CNI plugin image and its CNI version mapped in', () => {
    const onlineConfig = userDataOf(online, online.controlPlanes[0]);
    const patch = YAML.parse(fileAt(config, '/etc/k8s-lab/cni/pod-network.yaml').content);
    const onlinePatch = YAML.parse(fileAt(onlineConfig, '/etc/k8s-lab/cni/pod-network.yaml').content);
    const { 'cni-conf.json': cniConf, ...data } = patch.data;
    expect({ ...patch, data }).toEqual(onlinePatch);
    // The baked CNI plugin speaks CNI spec versions up to 0.4.0; upstream's conflist asks for 1.0.0.
    expect(JSON.parse(cniConf)).toMatchObject({ cniVersion: '0.4.0', plugins: [{ type: 'flannel' }, { type: 'portmap' }] });
    const baked = YAML.parse(fileAt(config, '/etc/k8s-lab/cni/kustomization.yaml').content);
    const { images, ...rest } = baked;
    expect(rest).toEqual(YAML.parse(fileAt(onlineConfig, '/etc/k8s-lab/cni/kustomization.yaml').content));
    expect(images).toEqual([{ name: 'ghcr.io/flannel-io/flannel-cni-plugin', newName: 'k8s-lab.local/flannel-cni-plugin', newTag: 'v0.9.1' }]);
    expect(baked.resources).toEqual(['kube-flannel.yml']);
    expect(init).toContain('until kubectl --server "${local_api}" apply --server-side --force-conflicts -k "${cni_dir}"; do');
  });
});

describe('prebaked load balancers and external etcd', () => {
  test('load balancer: renders a check for the baked haproxy instead of apt', () => {
    const lb = fileAt(userDataOf(plan, plan.loadBalancers[0]), script('load-balancer')).content;
    expect(lb).toMatch(/if ! command -v haproxy >\/dev\/null; then\n[^\n]*is this the k8s-lab node image[^\n]*>&2\n\s+exit 1\nfi/);
  });
  test('keepalived: renders a check for the baked keepalived instead of apt', () => {
    const k = fileAt(userDataOf(twoLbs, twoLbs.loadBalancers[1]), script('keepalived')).content;
    expect(k).toContain('if ! command -v keepalived >/dev/null; then');
  });
  test('etcd member: renders an import of the baked etcd archive into its own containerd namespace instead of a pull', () => {
    const release = etcdReleaseFor(externalEtcd.spec.kubernetes.version);
    expect(bakedImageArchive(release.image)).toBe('/opt/k8s-lab/images/etcd.tar');
    const etcd = fileAt(YAML.parse(renderNodeFiles(externalEtcd, externalEtcd.etcdNodes[0], FAKE_SECRETS_WITH_ETCD)['user-data']), script('etcd-member')).content;
    expect(etcd).toContain('readonly etcd_archive=/opt/k8s-lab/images/etcd.tar');
    expect(etcd).toContain('ctr -n k8s-lab images import "${etcd_archive}"');
    expect(etcd).toContain('if ! command -v containerd >/dev/null; then');
    expect(etcd).toContain('if ! command -v nft >/dev/null; then');
  });
});

describe('bakedImageArchive: one archive per image, named after the repository', () => {
  test.each([
    ['registry.k8s.io/kube-apiserver:v1.36.3', '/opt/k8s-lab/images/kube-apiserver.tar'],
    ['registry.k8s.io/coredns/coredns:v1.14.2', '/opt/k8s-lab/images/coredns.tar'],
    ['registry.k8s.io/pause:3.10.2', '/opt/k8s-lab/images/pause.tar'],
    ['ghcr.io/flannel-io/flannel:v0.28.4', '/opt/k8s-lab/images/flannel.tar'],
  ])('%s → %s', (image, archive) => {
    expect(bakedImageArchive(image)).toBe(archive);
  });
  test('fails when the reference is not an image name', () => {
    expect(() => bakedImageArchive('Not An Image')).toThrow(/bakedImageArchive: "Not An Image" is not an image reference/);
  });
});

describe('golden user-data per role, prebaked (FAKE_SECRETS)', () => {
  test.each([
    ['first control plane', 'cp-1'],
    ['joining control plane', 'cp-2'],
    ['worker', 'worker-general-1'],
    ['load balancer', 'lb-1'],
  ])('%s', (_role, suffix) => {
    expect(renderNodeFiles(plan, nodeOf(plan, suffix), FAKE_SECRETS)['user-data']).toMatchSnapshot();
  });
  test('external etcd member (FAKE_SECRETS + the fake etcd set)', () => {
    expect(renderNodeFiles(externalEtcd, nodeOf(externalEtcd, 'etcd-1'), FAKE_SECRETS_WITH_ETCD)['user-data']).toMatchSnapshot();
  });
  test('roles in the golden set cover every NodeRole', () => {
    expect(new Set([...plan.nodes, ...externalEtcd.etcdNodes].map((n) => n.role))).toEqual(new Set(Object.values(NodeRole)));
  });
});

describe('baked flannel CNI plugin pin (tools/flannel-cni-plugin/go.mod)', () => {
  test('the tag the kustomization maps to is the containernetworking/plugins version the node image builds', () => {
    const goMod = fs.readFileSync(path.join(__dirname, '..', '..', 'tools', 'flannel-cni-plugin', 'go.mod'), 'utf8');
    expect(/^require github\.com\/containernetworking\/plugins (v\S+)$/m.exec(goMod)?.[1]).toBe(BAKED_FLANNEL_CNI_PLUGIN_IMAGE.bakedTag);
  });
});
