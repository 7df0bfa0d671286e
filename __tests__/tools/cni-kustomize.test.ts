import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { CloudConfigFile, INIT_CONTROL_PLANE_STEP, renderNodeFiles, stepScriptPath } from '../../bootstrap';
import { ClusterPlan, Cni, DEFAULT_KUBERNETES_VERSION, parseClusterSpec, planCluster } from '../../spec';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { ROOT } from '../support/tools';

// The first control plane installs the CNI with `kubectl --server <its own API> apply --server-side
// --force-conflicts -k /etc/k8s-lab/cni`: a kustomization over the pinned upstream manifest (downloaded at
// boot) plus a strategic-merge patch that sets the pod network. Here the real kubectl of the pinned release
// (`npm run tools`, scripts/tools/kubernetes-binaries.sh) builds that kustomization with its built-in kustomize
// (`kubectl kustomize DIR`, the build step of `apply -k`) from the files exactly as the first control
// plane's user-data writes them.
//
// STAND-INS, NOT UPSTREAM: this machine cannot download calico.yaml / kube-flannel.yml, so each case
// uses a minimal manifest written here that has the objects the patch targets, in the shape upstream
// has them. What they assume about the pinned releases (CALICO_VERSION, FLANNEL_VERSION in
// bootstrap/pinned-versions.ts) — read in upstream's manifests (calico manifests/calico.yaml and
// flannel's kube-flannel.yml as published in recent releases; the exact pinned tags were not
// available to read, so these names are an assumption to re-check when a pin moves):
//  - calico: a DaemonSet `calico-node` in `kube-system` whose container `calico-node` has an `env`
//    list in which CALICO_IPV4POOL_CIDR is commented out (so calico would otherwise pick its own
//    default pool or the kubeadm pod subnet), beside other variables;
//  - flannel: a ConfigMap `kube-flannel-cfg` in namespace `kube-flannel` (kube-system before flannel
//    v0.20) whose `net-conf.json` is {"Network": "10.244.0.0/16", "EnableNFTables": false,
//    "Backend": {"Type": "vxlan"}}. The patch replaces that JSON value whole (strategic merge works on
//    the ConfigMap's `data` keys, not inside a JSON string), so a field upstream adds to
//    net-conf.json later would be dropped: the last flannel case pins that behaviour down.

const KUBECTL = path.join(ROOT, '.tools', 'bin', 'kubectl');

function kubectl(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  if (!fs.existsSync(KUBECTL)) {
    throw new Error(`kubectl is missing (expected the real binary at ${KUBECTL}); run \`npm run tools\` to build it`);
  }
  const run = spawnSync(KUBECTL, args, { encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A Kubernetes object as plain data. */
type Obj = Record<string, any>;

const POD_CIDR = '10.32.0.0/16'; // not flannel's default 10.244.0.0/16, so a patch that did nothing shows

function planOf(cni: Cni): ClusterPlan {
  return planCluster(parseClusterSpec({ kubernetes: { cni, podCidr: POD_CIDR } }).spec);
}

/** What the first control plane's user-data gives the CNI step: its files, and where the step runs kustomize. */
interface CniStepInput {
  /** The directory `kubectl apply -k` runs on (the step script's cni_dir). */
  readonly dir: string;
  /** The file name the step's curl saves the upstream manifest as (its cni_manifest, inside dir). */
  readonly manifestName: string;
  /** The kustomization and patch files, by name inside dir, as written by write_files. */
  readonly files: ReadonlyMap<string, string>;
}

function cniStepInput(plan: ClusterPlan): CniStepInput {
  const userData = renderNodeFiles(plan, plan.controlPlanes[0], FAKE_SECRETS)['user-data'];
  const writeFiles = (YAML.parse(userData) as { write_files: CloudConfigFile[] }).write_files;
  const script = writeFiles.find((f) => f.path === stepScriptPath(INIT_CONTROL_PLANE_STEP));
  if (script === undefined) throw new Error(`no ${stepScriptPath(INIT_CONTROL_PLANE_STEP)} in the first control plane's user-data`);
  const constant = (name: string): string => {
    const m = new RegExp(`^readonly ${name}=(\\S+)$`, 'm').exec(script.content);
    if (m === null) throw new Error(`the init step script sets no readonly ${name}=...`);
    return m[1];
  };
  const dir = constant('cni_dir');
  const manifest = constant('cni_manifest');
  expect(path.posix.dirname(manifest)).toBe(dir);
  expect(script.content).toContain('kubectl --server "${local_api}" apply --server-side --force-conflicts -k "${cni_dir}"');
  const files = new Map(writeFiles.filter((f) => path.posix.dirname(f.path) === dir).map((f) => [path.posix.basename(f.path), f.content] as const));
  return { dir, manifestName: path.posix.basename(manifest), files };
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cni-kustomize-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Writes the step's files and `upstream` (as the downloaded manifest) to a fresh directory; `kubectl kustomize` on it. */
function build(input: CniStepInput, upstream: string, files: ReadonlyMap<string, string> = input.files): { status: number | null; docs: Obj[]; stderr: string } {
  const dir = fs.mkdtempSync(path.join(tmp, 'cni-'));
  for (const [name, content] of files) fs.writeFileSync(path.join(dir, name), content);
  fs.writeFileSync(path.join(dir, input.manifestName), upstream);
  const run = kubectl(['kustomize', dir]);
  const docs = run.status === 0 ? YAML.parseAllDocuments(run.stdout).map((d) => d.toJS() as Obj) : [];
  return { status: run.status, docs, stderr: run.stderr };
}

const idOf = (o: Obj): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const byId = (docs: readonly Obj[]): Map<string, Obj> => new Map(docs.map((d) => [idOf(d), d]));
const parseAll = (text: string): Obj[] => YAML.parseAllDocuments(text).map((d) => d.toJS() as Obj);

// --- Stand-ins -------------------------------------------------------------------------------------

/** Minimal stand-in of calico.yaml: calico-config, the calico-node DaemonSet, calico-kube-controllers. */
function calicoStandIn(opts: { daemonSetName?: string; cidrLine?: 'commented' | 'set' } = {}): string {
  const cidr =
    opts.cidrLine === 'set'
      ? ['            - name: CALICO_IPV4POOL_CIDR', '              value: "192.168.0.0/16"']
      : ['            # - name: CALICO_IPV4POOL_CIDR', '            #   value: "192.168.0.0/16"'];
  return [
    '# STAND-IN for calico.yaml (test fixture, not the upstream file)',
    'kind: ConfigMap',
    'apiVersion: v1',
    'metadata:',
    '  name: calico-config',
    '  namespace: kube-system',
    'data:',
    '  calico_backend: "bird"',
    '  veth_mtu: "0"',
    '---',
    'kind: DaemonSet',
    'apiVersion: apps/v1',
    'metadata:',
    `  name: ${opts.daemonSetName ?? 'calico-node'}`,
    '  namespace: kube-system',
    '  labels:',
    '    k8s-app: calico-node',
    'spec:',
    '  selector:',
    '    matchLabels:',
    '      k8s-app: calico-node',
    '  template:',
    '    metadata:',
    '      labels:',
    '        k8s-app: calico-node',
    '    spec:',
    '      hostNetwork: true',
    '      serviceAccountName: calico-node',
    '      initContainers:',
    '        - name: install-cni',
    '          image: docker.io/calico/cni:stand-in',
    '          env:',
    '            - name: CNI_CONF_NAME',
    '              value: "10-calico.conflist"',
    '      containers:',
    '        - name: calico-node',
    '          image: docker.io/calico/node:stand-in',
    '          env:',
    '            - name: DATASTORE_TYPE',
    '              value: "kubernetes"',
    '            - name: NODENAME',
    '              valueFrom:',
    '                fieldRef:',
    '                  fieldPath: spec.nodeName',
    '            - name: CALICO_NETWORKING_BACKEND',
    '              valueFrom:',
    '                configMapKeyRef:',
    '                  name: calico-config',
    '                  key: calico_backend',
    '            - name: CALICO_IPV4POOL_IPIP',
    '              value: "Always"',
    ...cidr,
    '            - name: CALICO_DISABLE_FILE_LOGGING',
    '              value: "true"',
    '            - name: FELIX_IPV6SUPPORT',
    '              value: "false"',
    '          securityContext:',
    '            privileged: true',
    '---',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: calico-kube-controllers',
    '  namespace: kube-system',
    'spec:',
    '  replicas: 1',
    '  selector:',
    '    matchLabels:',
    '      k8s-app: calico-kube-controllers',
    '  template:',
    '    metadata:',
    '      labels:',
    '        k8s-app: calico-kube-controllers',
    '    spec:',
    '      containers:',
    '        - name: calico-kube-controllers',
    '          image: docker.io/calico/kube-controllers:stand-in',
    '          env:',
    '            - name: DATASTORE_TYPE',
    '              value: kubernetes',
    '',
  ].join('\n');
}

/** The upstream default of net-conf.json as the stand-in carries it (the shape of recent releases). */
const FLANNEL_UPSTREAM_NET_CONF = { Network: '10.244.0.0/16', EnableNFTables: false, Backend: { Type: 'vxlan' } };

/** Minimal stand-in of kube-flannel.yml: the namespace, kube-flannel-cfg and the DaemonSet that mounts it. */
function flannelStandIn(opts: { namespace?: string; netConf?: object } = {}): string {
  const ns = opts.namespace ?? 'kube-flannel';
  const netConf = JSON.stringify(opts.netConf ?? FLANNEL_UPSTREAM_NET_CONF, null, 2).split('\n');
  return [
    '# STAND-IN for kube-flannel.yml (test fixture, not the upstream file)',
    'kind: Namespace',
    'apiVersion: v1',
    'metadata:',
    `  name: ${ns}`,
    '  labels:',
    '    pod-security.kubernetes.io/enforce: privileged',
    '---',
    'kind: ConfigMap',
    'apiVersion: v1',
    'metadata:',
    '  name: kube-flannel-cfg',
    `  namespace: ${ns}`,
    '  labels:',
    '    app: flannel',
    'data:',
    '  cni-conf.json: |',
    '    {',
    '      "name": "cbr0",',
    '      "cniVersion": "0.3.1",',
    '      "plugins": [{"type": "flannel", "delegate": {"hairpinMode": true, "isDefaultGateway": true}}]',
    '    }',
    '  net-conf.json: |',
    ...netConf.map((l) => `    ${l}`),
    '---',
    'apiVersion: apps/v1',
    'kind: DaemonSet',
    'metadata:',
    '  name: kube-flannel-ds',
    `  namespace: ${ns}`,
    'spec:',
    '  selector:',
    '    matchLabels:',
    '      app: flannel',
    '  template:',
    '    metadata:',
    '      labels:',
    '        app: flannel',
    '    spec:',
    '      containers:',
    '        - name: kube-flannel',
    '          image: ghcr.io/flannel-io/flannel:stand-in',
    '          args: ["--ip-masq", "--kube-subnet-mgr"]',
    '      volumes:',
    '        - name: flannel-cfg',
    '          configMap:',
    '            name: kube-flannel-cfg',
    '',
  ].join('\n');
}

/** The env list of container `name` of a pod template's owner. */
function envOf(workload: Obj | undefined, container: string): Obj[] {
  const c = (workload?.spec?.template?.spec?.containers ?? []).find((x: Obj) => x.name === container);
  if (c === undefined) throw new Error(`no container ${container} in ${workload ? idOf(workload) : 'a missing object'}`);
  return c.env ?? [];
}

/** net-conf.json of kube-flannel-cfg, parsed. */
function netConfOf(docs: readonly Obj[], namespace = 'kube-flannel'): Obj {
  const cm = byId(docs).get(`ConfigMap/${namespace}/kube-flannel-cfg`);
  if (cm === undefined) throw new Error(`no ConfigMap ${namespace}/kube-flannel-cfg in the build output`);
  return JSON.parse(cm.data['net-conf.json']);
}

/** The rendered kustomization without its patches (serialised again): what the build gives without our patch. */
function withoutPatches(input: CniStepInput): Map<string, string> {
  const files = new Map(input.files);
  const kustomization = YAML.parse(files.get('kustomization.yaml') ?? '') as Obj;
  delete kustomization.patches;
  files.set('kustomization.yaml', YAML.stringify(kustomization));
  return files;
}

// --- Tests -----------------------------------------------------------------------------------------

test('the kubectl built by `npm run tools` is the pinned release, with its built-in kustomize', () => {
  // GIVEN .tools/bin/kubectl WHEN asked its client version THEN it is DEFAULT_KUBERNETES_VERSION with kustomize v5
  const run = kubectl(['version', '--client', '-o', 'json']);
  expect(run.status).toBe(0);
  const version = JSON.parse(run.stdout);
  expect(version.clientVersion.gitVersion).toBe(`v${DEFAULT_KUBERNETES_VERSION}`);
  expect(version.kustomizeVersion).toMatch(/^v5\./);
});

describe('calico: the rendered kustomization sets CALICO_IPV4POOL_CIDR = podCidr', () => {
  const input = cniStepInput(planOf(Cni.CALICO));

  test('the first control plane writes the kustomization and its patch beside the manifest it downloads', () => {
    // GIVEN the first control plane's user-data WHEN its CNI files are listed THEN they are the kustomization and its patch
    expect(input.manifestName).toBe('calico.yaml');
    expect([...input.files.keys()].sort()).toEqual(['kustomization.yaml', 'pod-network.yaml']);
  });

  test('adds the pool CIDR to the calico-node container and changes nothing else', () => {
    // GIVEN the rendered files and the calico stand-in WHEN kubectl kustomize builds them
    const upstream = calicoStandIn();
    const { status, docs, stderr } = build(input, upstream);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    // THEN the same objects come out
    const before = byId(parseAll(upstream));
    const after = byId(docs);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    // AND calico-node's env is upstream's, plus CALICO_IPV4POOL_CIDR = podCidr once
    const ds = after.get('DaemonSet/kube-system/calico-node');
    const env = envOf(ds, 'calico-node');
    expect(env.filter((e) => e.name === 'CALICO_IPV4POOL_CIDR')).toEqual([{ name: 'CALICO_IPV4POOL_CIDR', value: POD_CIDR }]);
    expect(env.filter((e) => e.name !== 'CALICO_IPV4POOL_CIDR')).toEqual(envOf(before.get('DaemonSet/kube-system/calico-node'), 'calico-node'));
    // AND apart from that one variable the DaemonSet, and every other object, is exactly upstream's
    const dsWithoutCidr = JSON.parse(JSON.stringify(ds));
    dsWithoutCidr.spec.template.spec.containers[0].env = env.filter((e) => e.name !== 'CALICO_IPV4POOL_CIDR');
    expect(dsWithoutCidr).toEqual(before.get('DaemonSet/kube-system/calico-node'));
    for (const [id, obj] of before) if (id !== 'DaemonSet/kube-system/calico-node') expect(after.get(id)).toEqual(obj);
  });

  test('replaces the value when upstream sets CALICO_IPV4POOL_CIDR itself (merged by name, no duplicate)', () => {
    // GIVEN a stand-in whose calico-node sets CALICO_IPV4POOL_CIDR=192.168.0.0/16 WHEN built THEN it is podCidr, once
    const { status, docs, stderr } = build(input, calicoStandIn({ cidrLine: 'set' }));
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    const env = envOf(byId(docs).get('DaemonSet/kube-system/calico-node'), 'calico-node');
    expect(env.filter((e) => e.name === 'CALICO_IPV4POOL_CIDR')).toEqual([{ name: 'CALICO_IPV4POOL_CIDR', value: POD_CIDR }]);
  });

  test('fails when upstream has no DaemonSet kube-system/calico-node (the patch matches nothing)', () => {
    // GIVEN a stand-in whose DaemonSet has another name WHEN built THEN kustomize refuses, naming the patch target
    const { status, stderr } = build(input, calicoStandIn({ daemonSetName: 'calico-node-v4' }));
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/no resource matches strategic merge patch "DaemonSet.v1.apps\/calico-node.kube-system"/);
  });

  test('the check can fail: without the rendered patch the calico-node env has no CALICO_IPV4POOL_CIDR', () => {
    // GIVEN the rendered kustomization with its patches removed WHEN built THEN the assertion above would not hold
    const { status, docs } = build(input, calicoStandIn(), withoutPatches(input));
    expect(status).toBe(0);
    expect(envOf(byId(docs).get('DaemonSet/kube-system/calico-node'), 'calico-node').map((e) => e.name)).not.toContain('CALICO_IPV4POOL_CIDR');
  });
});

describe('flannel: the rendered kustomization sets net-conf.json Network = podCidr', () => {
  const input = cniStepInput(planOf(Cni.FLANNEL));

  test('the first control plane writes the kustomization and its patch beside the manifest it downloads', () => {
    expect(input.manifestName).toBe('kube-flannel.yml');
    expect([...input.files.keys()].sort()).toEqual(['kustomization.yaml', 'pod-network.yaml']);
  });

  test('sets Network in net-conf.json and changes nothing else', () => {
    // GIVEN the rendered files and the flannel stand-in WHEN kubectl kustomize builds them
    const upstream = flannelStandIn();
    const { status, docs, stderr } = build(input, upstream);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    // THEN net-conf.json is upstream's with Network = podCidr
    expect(netConfOf(docs)).toEqual({ ...FLANNEL_UPSTREAM_NET_CONF, Network: POD_CIDR });
    // AND every other key, label and object is exactly upstream's
    const before = byId(parseAll(upstream));
    const after = byId(docs);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const cmBefore = before.get('ConfigMap/kube-flannel/kube-flannel-cfg') as Obj;
    const cmAfter = after.get('ConfigMap/kube-flannel/kube-flannel-cfg') as Obj;
    expect({ ...cmAfter, data: { ...cmAfter.data, 'net-conf.json': 'x' } }).toEqual({ ...cmBefore, data: { ...cmBefore.data, 'net-conf.json': 'x' } });
    for (const [id, obj] of before) if (id !== 'ConfigMap/kube-flannel/kube-flannel-cfg') expect(after.get(id)).toEqual(obj);
  });

  test('fails when kube-flannel-cfg is in another namespace (kube-system, as before flannel v0.20)', () => {
    // GIVEN a stand-in of the old layout WHEN built THEN kustomize refuses, naming the patch target
    const { status, stderr } = build(input, flannelStandIn({ namespace: 'kube-system' }));
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/no resource matches strategic merge patch "ConfigMap.v1.\[noGrp\]\/kube-flannel-cfg.kube-flannel"/);
  });

  test('the check can fail: without the rendered patch Network stays upstream\'s 10.244.0.0/16', () => {
    const { status, docs } = build(input, flannelStandIn(), withoutPatches(input));
    expect(status).toBe(0);
    expect(netConfOf(docs).Network).toBe('10.244.0.0/16');
  });

  test('replaces net-conf.json whole: a field upstream adds to it is dropped (known limit of a ConfigMap patch)', () => {
    // GIVEN a stand-in whose net-conf.json has one more field WHEN built THEN the output has the patch's fields only
    const { status, docs } = build(input, flannelStandIn({ netConf: { ...FLANNEL_UPSTREAM_NET_CONF, EnableIPv6: false } }));
    expect(status).toBe(0);
    expect(netConfOf(docs)).toEqual({ ...FLANNEL_UPSTREAM_NET_CONF, Network: POD_CIDR });
  });
});
