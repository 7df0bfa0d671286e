import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import {
  ETCD_CLIENT_STEP,
  ETCD_MEMBER_STEP,
  INIT_CONTROL_PLANE_STEP,
  KEEPALIVED_STEP,
  KUBEADM_CONFIG_PATH,
  LOAD_BALANCER_STEP,
  loadOrCreateSecrets,
  PREPARE_NODE_STEP,
  renderNodeFiles,
  SECRETS_FILE,
  stepScriptPath,
  STAGED_KEEPALIVED_CONFIG_PATH,
} from '../../bootstrap';
import { VM_PATHS } from '../../bootstrap/private/vm-paths';
import { consoleLogPath } from '../../constructs/private/domain-xslt';
import { ClusterPlan, ClusterSpecInput, DomainType, EtcdTopology, NodePlan, NodeRole, parseClusterSpec, planCluster } from '../../spec';
import { everyStep } from '../support/every-step';
import { applyTotals, cdktf, CdktfRunOptions, destroyedCount, mustSucceed, planTotals } from './support/cdktf-cli';
import {
  blkid,
  buildTestImage,
  consoleSeedLine,
  dhcpHosts,
  domainFacts,
  hostRoutesOverlapping,
  isNamedAfter,
  isoFile,
  leftoversOf,
  resolveAll,
  seedVolumesOf,
  startLibvirtd,
  stopStartedLibvirtd,
  sweep,
  virsh,
  volPath,
  waitForLeases,
} from './support/libvirt-host';
import {
  acquireRunLock,
  HA_CIDR,
  HA_CLUSTER,
  HA_OUT_DIR,
  HA_POOL_PATH,
  HA_SECRETS_DIR,
  HA_STATE_FILES,
  HA_VIRTUAL_IP,
  HA_WORK_DIR,
  haSpecDoc,
  macToIp,
  plannedDomain,
  releaseRunLock,
  TEST_CLUSTER,
  testSpecDoc,
  writeSpec,
} from './support/test-cluster';

/*
 * The deploy tier for the non-default topology (README "Topologies"): external etcd on a VM of its
 * own and two load balancers sharing the API's virtual IP. The same real CLI path as deploy.test.ts
 * (`npx cdktf deploy`, `diff`, `destroy`, support/cdktf-cli.ts), the same local test image and
 * probed domain type, on a cluster of its own (HA_CLUSTER: its own name, network HA_CIDR, pool
 * directory, secrets and state), checked from the outside with virsh, isoinfo and dig. DNS is only
 * asked of the network's own gateway, from a namespace the tier plugs into the network's bridge
 * (support/libvirt-host.ts withProbeNamespace); nothing is sent to a VM's address.
 *
 * The VMs boot the test image (a seed probe and a DHCP lease, no cloud-init), so keepalived never
 * runs and nothing holds the virtual IP: the checks are that the VMs, DHCP, DNS and each node's
 * NoCloud seed are what the plan says for this topology. The failover itself is the live tier's (README "Topologies").
 *
 * Cleanup (afterAll, so also after a failure): `cdktf destroy`, then a virsh sweep of anything named
 * after HA_CLUSTER, then its state, secrets and synth output. The run lock is deploy.test.ts's: one
 * tier run per working tree, its files one after another.
 */

/** A VM is three resources: its disk, its NoCloud seed volume and its domain. */
const RESOURCES_PER_VM = 3;
/** The network, the pool and the base image volume. */
const SHARED_RESOURCES = 3;
/** Bound for every VM to boot (emulated, without KVM, on a busy 2-core machine) and take its lease. */
const LEASE_TIMEOUT_MS = 300_000;
const CLI_TIMEOUT_MS = 600_000;
/** Per test: jest applies `testTimeout` only globally, not from a project's config. */
const STEP_TIMEOUT_MS = 900_000;
/** etcd's client port (kubeadm's etcd.external endpoints). */
const ETCD_CLIENT_PORT = 2379;

const timings: Record<string, number> = {};
let domainType: DomainType;
let plan: ClusterPlan;
const specFile = path.join(HA_WORK_DIR, 'spec.yaml');
const options: CdktfRunOptions = {
  specFile,
  secretsDir: HA_SECRETS_DIR,
  outDir: HA_OUT_DIR,
  timeoutMs: CLI_TIMEOUT_MS,
};
const networkName = `${HA_CLUSTER}-net`;

function timed(label: string, seconds: number): void {
  timings[label] = seconds;
  console.log(`deploy tier (topology): ${label} took ${seconds.toFixed(1)} s (wall time)`);
}

/** The libvirt objects a plan makes that a sweep goes by: its domains, its network and its pool. */
function libvirtNamesOf(p: ClusterPlan): string[] {
  return [...p.nodes.map((n) => n.hostname), `${p.spec.name}-net`, p.spec.name];
}

/** The plan the app makes of a spec document. */
function planOf(doc: ClusterSpecInput): ClusterPlan {
  return planCluster(parseClusterSpec(doc, 'a deploy tier spec').spec);
}

/** One cloud-config `write_files` entry of a user-data document, by path. */
function writtenFile(userData: string, file: string): string | undefined {
  const doc = YAML.parse(userData) as { write_files?: { path: string; content: string }[] };
  return doc.write_files?.find((f) => f.path === file)?.content;
}

/** The bootstrap steps a node's runner (written by its user-data) runs, in order. */
function runnerSteps(userData: string): string[] {
  const runner = writtenFile(userData, VM_PATHS.runner) ?? '';
  const m = /^steps=\(([^)]*)\)$/m.exec(runner);
  return m ? m[1].split(/\s+/).filter((w) => w !== '').map((w) => w.replace(/^'|'$/g, '')) : [];
}

/** The steps the bootstrap gives each role of this topology. */
function expectedSteps(node: NodePlan): string[] {
  switch (node.role) {
    case NodeRole.LOAD_BALANCER:
      return [LOAD_BALANCER_STEP, KEEPALIVED_STEP];
    case NodeRole.ETCD:
      return [ETCD_MEMBER_STEP];
    case NodeRole.CONTROL_PLANE:
      return [PREPARE_NODE_STEP, ETCD_CLIENT_STEP, INIT_CONTROL_PLANE_STEP];
    case NodeRole.WORKER:
      throw new Error(`the topology test cluster plans no workers, got ${node.hostname}`);
  }
}

function cleanup(): void {
  if (HA_STATE_FILES.some((f) => fs.existsSync(f)) && fs.existsSync(specFile)) {
    const run = cdktf('destroy', options);
    if (run.status !== 0) console.log(`deploy tier (topology) cleanup: cdktf destroy exited ${run.status}; sweeping with virsh\n${run.output.slice(-3000)}`);
  }
  sweep(HA_CLUSTER, HA_POOL_PATH);
  for (const f of HA_STATE_FILES) fs.rmSync(f, { force: true });
  fs.rmSync(HA_WORK_DIR, { recursive: true, force: true });
}

let locked = false;

beforeAll(() => {
  // Neither test cluster's sweep may reach the other's objects: checked before the lock is taken, so
  // that afterAll (which sweeps only under the lock) sweeps nothing when this fails.
  const crossed = [
    ...libvirtNamesOf(planOf(haSpecDoc('/planned-only.qcow2', DomainType.QEMU))).filter((n) => isNamedAfter(TEST_CLUSTER, n)),
    ...libvirtNamesOf(planOf(testSpecDoc('/planned-only.qcow2', DomainType.QEMU, 2))).filter((n) => isNamedAfter(HA_CLUSTER, n)),
  ];
  if (crossed.length > 0) throw new Error(`the test clusters ${TEST_CLUSTER} and ${HA_CLUSTER} would sweep each other's ${crossed.join(', ')}; rename one in __tests__/deploy/support/test-cluster.ts`);

  // One run at a time per working tree (the lock deploy.test.ts takes too).
  acquireRunLock();
  locked = true;

  const built = buildTestImage();
  domainType = startLibvirtd(built.kernel);
  console.log(`deploy tier (topology): domain type ${domainType} (scripts/libvirtd.sh), base image ${built.image}`);

  // Leftovers of an interrupted run are ours by name; remove them before anything else.
  cleanup();
  const overlapping = hostRoutesOverlapping(HA_CIDR);
  if (overlapping.length > 0) {
    throw new Error(`the test network ${HA_CIDR} overlaps host routes ${overlapping.join(', ')}; change HA_CIDR in __tests__/deploy/support/test-cluster.ts`);
  }
  plan = writeSpec(specFile, haSpecDoc(built.image, domainType));
}, 900_000);

afterAll(async () => {
  // Not locked: another run holds the lock (its clusters, not ours), or the name check failed first.
  if (!locked) return;
  // Each step runs whatever the one before it threw. The daemons this run started (none if libvirtd already ran)
  // are stopped once nothing of ours is left in them.
  await everyStep([cleanup, () => stopStartedLibvirtd(), releaseRunLock]);
  console.log(`deploy tier (topology): wall times (s): ${JSON.stringify(timings)}`);
}, 900_000);

describe('cdktf deploy of external etcd and two load balancers to a local libvirtd', () => {
  test('deploy creates the etcd member, both load balancers and the control plane', () => {
    // GIVEN the topology spec: external etcd (1 member), two load balancers with the virtual IP, one control plane
    expect(plan.spec.etcd.topology).toBe(EtcdTopology.EXTERNAL);
    expect(plan.nodes.map((n) => n.hostname)).toEqual(['k8s-lab-ha-lb-1', 'k8s-lab-ha-lb-2', 'k8s-lab-ha-etcd-1', 'k8s-lab-ha-cp-1']);
    // The API is the virtual IP, not the first load balancer's own address.
    expect(plan.apiEndpoint.ip).toBe(HA_VIRTUAL_IP);
    expect(plan.loadBalancers.map((n) => n.ip)).not.toContain(HA_VIRTUAL_IP);

    // WHEN the project's CLI deploys it
    const run = mustSucceed(cdktf('deploy', options), 'cdktf deploy (topology)');
    timed('deploy', run.seconds);

    // THEN Terraform made the network, the pool, the base image and three resources per VM
    expect(applyTotals(run.output)).toEqual({ added: SHARED_RESOURCES + RESOURCES_PER_VM * plan.nodes.length, changed: 0, destroyed: 0 });
    expect(fs.existsSync(HA_STATE_FILES[0])).toBe(true);
  }, STEP_TIMEOUT_MS);

  test('the etcd member, both load balancers and the control plane run with their planned vCPU, memory, MAC and network', () => {
    expect([...leftoversOf(HA_CLUSTER).domains].sort()).toEqual(plan.nodes.map((n) => n.hostname).sort());
    for (const node of plan.nodes) {
      expect({ node: node.hostname, ...domainFacts(node.hostname) }).toEqual(plannedDomain(node, domainType, networkName));
    }
  }, STEP_TIMEOUT_MS);

  test("the network's DHCP host entries map every node's MAC to its IP, and none holds the virtual IP", () => {
    const hosts = dhcpHosts(networkName);
    expect(hosts).toEqual(macToIp(plan));
    expect([...hosts.values()]).not.toContain(HA_VIRTUAL_IP);
  }, STEP_TIMEOUT_MS);

  test("the network's own DNS resolves api to the virtual IP, and every etcd, load balancer and control-plane name", () => {
    const unknown = `not-a-node.${plan.network.domain}`;
    const answers = resolveAll(plan, networkName, [plan.apiEndpoint.fqdn, ...plan.nodes.map((n) => n.fqdn), unknown]);
    // The virtual IP, which keepalived moves between the two, not lb-1's own address.
    expect(plan.loadBalancers.map((lb) => lb.ip)).not.toContain(HA_VIRTUAL_IP);
    expect(answers.get(plan.apiEndpoint.fqdn)).toEqual([HA_VIRTUAL_IP]);
    for (const node of plan.nodes) expect(answers.get(node.fqdn)).toEqual([node.ip]);
    // A name that is not in the plan gets no answer: the checks above are per name.
    expect(answers.get(unknown)).toEqual([]);
  }, STEP_TIMEOUT_MS);

  test("every seed volume holds exactly the node's rendering for this topology, and every VM reads it by its label", async () => {
    // GIVEN the secrets main.ts made on the first synth, with the etcd certificates (read back, never generated here)
    expect(fs.existsSync(path.join(HA_SECRETS_DIR, HA_CLUSTER, SECRETS_FILE))).toBe(true);
    const secrets = loadOrCreateSecrets(HA_CLUSTER, HA_SECRETS_DIR);
    const synthesized = JSON.parse(fs.readFileSync(path.join(HA_OUT_DIR, 'stacks', HA_CLUSTER, 'cdk.tf.json'), 'utf8')) as { resource: Record<string, unknown> };
    expect(synthesized.resource.libvirt_cloudinit_disk).toBeUndefined();
    const userDataOf = new Map<string, string>();
    // One bound for all the VMs' consoles, which boot together: within the test's timeout whatever the number of nodes.
    const deadline = Date.now() + LEASE_TIMEOUT_MS;

    for (const node of plan.nodes) {
      // WHEN the seed's files are read back from the pool
      const seeds = seedVolumesOf(HA_CLUSTER, node.hostname);
      expect(seeds).toHaveLength(1);
      const iso = volPath(HA_CLUSTER, seeds[0]);
      expect(blkid(iso)).toEqual({ type: 'iso9660', label: 'cidata' });
      const userData = isoFile(iso, 'user-data');
      userDataOf.set(node.hostname, userData);

      // THEN they are the renderer's output for that node
      const rendered = renderNodeFiles(plan, node, secrets);
      expect(userData).toBe(rendered['user-data']);
      expect(isoFile(iso, 'meta-data')).toBe(rendered['meta-data']);
      // AND the guest found the seed by its label and read that user-data (its serial console's report)
      const sha256 = createHash('sha256').update(rendered['user-data']).digest('hex');
      expect({ node: node.hostname, line: await consoleSeedLine(node.hostname, consoleLogPath(node.hostname), Math.max(0, deadline - Date.now())) }).toEqual({
        node: node.hostname,
        line: `k8s-lab-seed: user-data sha256 ${sha256} from /dev/vdb`,
      });
      // AND its runner runs the role's steps of this topology, each script written
      expect(runnerSteps(userData)).toEqual(expectedSteps(node));
      for (const step of expectedSteps(node)) expect(writtenFile(userData, stepScriptPath(step))).toBeDefined();
    }

    // Both load balancers stage a keepalived config for the virtual IP.
    for (const lb of plan.loadBalancers) expect(writtenFile(userDataOf.get(lb.hostname)!, STAGED_KEEPALIVED_CONFIG_PATH)).toContain(HA_VIRTUAL_IP);
    // The control plane's kubeadm config points at the external member and runs no local etcd.
    const kubeadm = YAML.parseAllDocuments(writtenFile(userDataOf.get(plan.controlPlanes[0].hostname)!, KUBEADM_CONFIG_PATH) ?? '').map((d) => d.toJS());
    const clusterConfiguration = kubeadm.find((d) => d?.kind === 'ClusterConfiguration');
    expect(clusterConfiguration?.etcd?.local).toBeUndefined();
    expect(clusterConfiguration?.etcd?.external?.endpoints).toEqual(plan.etcdNodes.map((n) => `https://${n.ip}:${ETCD_CLIENT_PORT}`));
    expect(clusterConfiguration?.controlPlaneEndpoint).toBe(`${plan.apiEndpoint.fqdn}:${plan.apiEndpoint.port}`);

    // The comparison tells topologies apart: lb-1 of the same cluster with one load balancer and
    // stacked etcd renders differently from what the seed holds.
    const defaultTopology = planOf({ ...haSpecDoc('/planned-only.qcow2', domainType), etcd: { topology: EtcdTopology.STACKED }, loadBalancer: { count: 1 } });
    expect(userDataOf.get(plan.loadBalancers[0].hostname)).not.toBe(renderNodeFiles(defaultTopology, defaultTopology.loadBalancers[0], secrets)['user-data']);
    expect(runnerSteps(renderNodeFiles(defaultTopology, defaultTopology.loadBalancers[0], secrets)['user-data'])).toEqual([LOAD_BALANCER_STEP]);
  }, STEP_TIMEOUT_MS);

  test('once every VM has its lease, a re-plan shows no changes', async () => {
    const started = Date.now();
    await waitForLeases(networkName, macToIp(plan), LEASE_TIMEOUT_MS);
    timed('lease wait', (Date.now() - started) / 1000);
    const run = mustSucceed(cdktf('diff', options), 'cdktf diff (topology)');
    timed('re-plan', run.seconds);
    expect(run.output).toContain('No changes. Your infrastructure matches the configuration.');
    expect(planTotals(run.output)).toBeUndefined();
    // Past its two waits' bounds, so a slow one fails on its bound.
  }, LEASE_TIMEOUT_MS + CLI_TIMEOUT_MS + 60_000);

  test('destroy leaves no domain, volume, pool or network of the topology cluster behind', () => {
    // GIVEN the cluster exists
    expect(leftoversOf(HA_CLUSTER).domains).toHaveLength(plan.nodes.length);

    // WHEN the CLI destroys it
    const run = mustSucceed(cdktf('destroy', options), 'cdktf destroy (topology)');
    timed('destroy', run.seconds);

    // THEN every resource of the state went, and libvirt has nothing of the cluster left
    expect(destroyedCount(run.output)).toBe(SHARED_RESOURCES + RESOURCES_PER_VM * plan.nodes.length);
    expect(leftoversOf(HA_CLUSTER)).toEqual({ domains: [], networks: [], pools: [] });
    expect(fs.existsSync(HA_POOL_PATH)).toBe(false);
    expect(virsh('net-list', '--all', '--name')).not.toContain(networkName);
  }, STEP_TIMEOUT_MS);
});
