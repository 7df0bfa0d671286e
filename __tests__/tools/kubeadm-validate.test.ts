import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { KubeadmDocument, kubeadmDocuments, renderKubeadmConfig } from '../../bootstrap';
import { ClusterPlan, DEFAULT_KUBERNETES_VERSION, DomainType, NodePlan, NodeRole, parseClusterSpec, planCluster } from '../../spec';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { PREBAKED_CONTAINER_NODE_SPEC } from '../fixtures/bootstrap-helpers';
import { ROOT, runTool } from '../support/tools';

// The real kubeadm, built at DEFAULT_KUBERNETES_VERSION from the Go module proxy by `npm run tools`
// (scripts/tools/kubernetes-binaries.sh), checks every rendered role: `kubeadm config validate --config FILE`
// decodes strictly (unknown fields are errors) and runs kubeadm's own validation of the values.

const KUBEADM = path.join(ROOT, '.tools', 'bin', 'kubeadm');

function kubeadm(args: string[]): { status: number | null; output: string } {
  // The absolute path: only the kubeadm built at the pinned version will do, never another on PATH.
  if (!fs.existsSync(KUBEADM)) throw new Error(`'kubeadm' is not installed at ${KUBEADM}; run 'npm run tools'`);
  return runTool(KUBEADM, args, { timeoutMs: 60_000 });
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeadm-validate-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function validate(configText: string): { status: number | null; output: string } {
  const file = path.join(tmp, `kubeadm-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, configText, { mode: 0o600 });
  return kubeadm(['config', 'validate', '--config', file]);
}

/** The node's documents as plain data, changed by `edit`, serialised again: how the negative cases break one field. */
function tampered(plan: ClusterPlan, node: NodePlan, edit: (docs: Record<string, any>[]) => void): string {
  const docs: Record<string, any>[] = JSON.parse(JSON.stringify(kubeadmDocuments(plan, node, FAKE_SECRETS) as KubeadmDocument[]));
  edit(docs);
  return docs.map((d) => YAML.stringify(d)).join('---\n');
}

const defaultPlan = planCluster(parseClusterSpec({}).spec);
const taintedPlan = planCluster(
  parseClusterSpec({
    workerPools: [
      {
        name: 'gpu',
        count: 1,
        labels: { 'example.com/zone': 'b', accelerator: 'fake-gpu' },
        taints: [
          { key: 'example.com/gpu', value: 'true', effect: 'NoSchedule' },
          { key: 'example.com/dedicated', effect: 'PreferNoSchedule' },
        ],
      },
    ],
  }).spec,
);

// Under emulation every timeout init and join use is set, 10 times its KVM value.
const emulatedPlan = planCluster(parseClusterSpec({ libvirt: { domainType: DomainType.QEMU } }).spec);

// Every container-node option on (failCgroupV1, ignorePreflightErrors, a KubeProxyConfiguration), on the prebaked spec.
const containerNodePlan = planCluster(parseClusterSpec(PREBAKED_CONTAINER_NODE_SPEC).spec);

test('the kubeadm built by `npm run tools` is the pinned release', () => {
  // GIVEN .tools/bin/kubeadm WHEN asked its version THEN it is DEFAULT_KUBERNETES_VERSION, not a v0.0.0 dev stamp
  const { status, output } = kubeadm(['version', '-o', 'short']);
  expect(status).toBe(0);
  expect(output.trim()).toBe(`v${DEFAULT_KUBERNETES_VERSION}`);
});

describe('kubeadm config validate accepts every rendered role', () => {
  const cases: [string, ClusterPlan, NodePlan][] = [
    ...defaultPlan.nodes.filter((n) => n.role !== NodeRole.LOAD_BALANCER).map((n): [string, ClusterPlan, NodePlan] => [`default cluster, ${n.hostname}`, defaultPlan, n]),
    ['labelled + tainted pool, worker', taintedPlan, taintedPlan.workers[0]],
    ...emulatedPlan.nodes
      .filter((n) => n.role !== NodeRole.LOAD_BALANCER)
      .map((n): [string, ClusterPlan, NodePlan] => [`emulated (domainType qemu), every timeout set, ${n.hostname}`, emulatedPlan, n]),
    ...containerNodePlan.nodes
      .filter((n) => n.role !== NodeRole.LOAD_BALANCER)
      .map((n): [string, ClusterPlan, NodePlan] => [`prebaked, container-node options, ${n.hostname}`, containerNodePlan, n]),
  ];
  test.each(cases)('%s', (_name, plan, node) => {
    // GIVEN the node's rendered kubeadm config WHEN the real kubeadm validates it THEN it says ok
    const { status, output } = validate(renderKubeadmConfig(plan, node, FAKE_SECRETS));
    expect(output.trim()).toBe('ok');
    expect(status).toBe(0);
  });
});

describe('kubeadm config validate can fail', () => {
  const cp1 = defaultPlan.controlPlanes[0];
  const cp2 = defaultPlan.controlPlanes[1];
  const worker = taintedPlan.workers[0];

  test('fails when podSubnet is not a CIDR', () => {
    const { status, output } = validate(tampered(defaultPlan, cp1, (docs) => (docs[1].networking.podSubnet = '10.244.0.0/33')));
    expect(output).toMatch(/networking\.podSubnet: Invalid value: "10\.244\.0\.0\/33"/);
    expect(status).not.toBe(0);
  });

  test('fails when a JoinConfiguration has an unknown field (a typo)', () => {
    const { status, output } = validate(
      tampered(defaultPlan, cp2, (docs) => {
        docs[0].discovry = docs[0].discovery;
      }),
    );
    expect(output).toMatch(/strict decoding error: unknown field "discovry"/);
    expect(status).not.toBe(0);
  });

  test('fails when kubeletExtraArgs is a map (the v1beta3 shape) instead of a name/value list', () => {
    const { status, output } = validate(
      tampered(taintedPlan, worker, (docs) => {
        docs[0].nodeRegistration.kubeletExtraArgs = { 'node-ip': worker.ip };
      }),
    );
    expect(output).toMatch(/kubeletExtraArgs/);
    expect(status).not.toBe(0);
  });

  test('fails when a timeout is not a Go duration (the timeouts are decoded, not ignored)', () => {
    const emulatedWorker = emulatedPlan.workers[0];
    const { status, output } = validate(
      tampered(emulatedPlan, emulatedWorker, (docs) => {
        docs[0].timeouts.tlsBootstrap = '50 minutes';
      }),
    );
    expect(output).toMatch(/time: unknown unit " minutes" in duration "50 minutes"/);
    expect(status).not.toBe(0);
  });

  test('fails when the bootstrap token is malformed', () => {
    const { status, output } = validate(
      tampered(taintedPlan, worker, (docs) => {
        docs[0].discovery.bootstrapToken.token = 'FAKE00.fakefakefakefake';
      }),
    );
    expect(output).toMatch(/discovery\.bootstrapToken\.token: Invalid value/);
    expect(status).not.toBe(0);
  });

  test('fails when a KubeProxyConfiguration has a misspelt conntrack field (the document is decoded strictly)', () => {
    const cp = containerNodePlan.controlPlanes[0];
    const { status, output } = validate(
      tampered(containerNodePlan, cp, (docs) => {
        docs[3].conntrack = { maxPerCor: 0 };
      }),
    );
    expect(output).toMatch(/unknown field "conntrack\.maxPerCor"|unknown field "maxPerCor"/);
    expect(status).not.toBe(0);
  });

  test('fails when kubernetesVersion is two minors older than this kubeadm (it deploys n and n-1 only)', () => {
    // The spec allows older minors than this kubeadm can deploy: the cluster must run a kubeadm of its own release.
    const minor = Number(DEFAULT_KUBERNETES_VERSION.split('.')[1]);
    const { status, output } = validate(tampered(defaultPlan, cp1, (docs) => (docs[1].kubernetesVersion = `v1.${minor - 2}.0`)));
    expect(output).toMatch(new RegExp(`only supports deploying clusters with the control plane version >= 1\\.${minor - 1}\\.0`));
    expect(status).not.toBe(0);
  });
});

describe("the spec refuses what kubeadm refuses, at kubeadm's own bounds", () => {
  const cp1 = defaultPlan.controlPlanes[0];
  const clusterConfiguration = (docs: Record<string, any>[]) => docs.find((d) => d.kind === 'ClusterConfiguration')!;
  // Each row: the field, a value, the kubernetes section it is given in (the other network moved out of its
  // way), and what kubeadm says when it refuses it.
  const rows: [string, 'podCidr' | 'serviceCidr', string, Record<string, string>, RegExp | undefined][] = [
    ['pod network /24 (one node range)', 'podCidr', '10.244.0.0/24', {}, undefined],
    ['pod network /25', 'podCidr', '10.244.0.0/25', {}, /the size of pod subnet with mask 25 is smaller than the size of node subnet with mask 24/],
    ['pod network /8', 'podCidr', '10.0.0.0/8', { serviceCidr: '172.16.0.0/16' }, undefined],
    ['pod network /7', 'podCidr', '10.0.0.0/7', { serviceCidr: '172.16.0.0/16' }, /pod subnet mask \(7\) and node-mask \(24\) difference is greater than 16/],
    ['service network /12', 'serviceCidr', '10.96.0.0/12', {}, undefined],
    ['service network /11', 'serviceCidr', '10.64.0.0/11', { podCidr: '172.16.0.0/16' }, /specified service subnet is too large; for 32-bit addresses, the mask must be >= 12/],
    ['service network /28', 'serviceCidr', '10.96.0.0/28', {}, undefined],
    ['service network /29', 'serviceCidr', '10.96.0.0/29', {}, /subnet with 8 address\(es\) is too small, the minimum is 10/],
  ];

  test.each(rows)('%s', (_name, field, value, others, kubeadmRefusal) => {
    // GIVEN the default cluster's kubeadm config with the network changed to the value
    const edit = (docs: Record<string, any>[]) => {
      const networking = clusterConfiguration(docs).networking;
      networking[field === 'podCidr' ? 'podSubnet' : 'serviceSubnet'] = value;
      if (others.podCidr) networking.podSubnet = others.podCidr;
      if (others.serviceCidr) networking.serviceSubnet = others.serviceCidr;
    };
    // WHEN kubeadm validates it, and the spec check reads the same values
    const { status, output } = validate(tampered(defaultPlan, cp1, edit));
    const spec = () => parseClusterSpec({ workerPools: [{ name: 'general', count: 0 }], controlPlane: { count: 1 }, kubernetes: { [field]: value, ...others } });
    // THEN both accept it, or both refuse it (kubeadm with its reason, the spec naming the field and the value)
    if (kubeadmRefusal === undefined) {
      expect({ status, output }).toEqual({ status: 0, output: expect.stringMatching(/ok/) });
      expect(spec).not.toThrow();
    } else {
      expect(output).toMatch(kubeadmRefusal);
      expect(status).not.toBe(0);
      expect(spec).toThrow(new RegExp(`kubernetes\\.${field}: must be a network of .*\\(got "${value.replace(/[./]/g, '\\$&')}"\\)`));
    }
  });

  test('a version with a leading zero: kubeadm cannot parse it, and the spec refuses it', () => {
    const { status, output } = validate(tampered(defaultPlan, cp1, (docs) => (clusterConfiguration(docs).kubernetesVersion = 'v1.36.03')));
    expect(output).toMatch(/illegal zero-prefixed version component "03"/);
    expect(status).not.toBe(0);
    expect(() => parseClusterSpec({ kubernetes: { version: '1.36.03' } })).toThrow(/kubernetes\.version: .*without leading zeros.*\(got "1\.36\.03"\)/);
  });
});
