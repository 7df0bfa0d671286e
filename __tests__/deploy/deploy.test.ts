import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import { loadOrCreateSecrets, renderNodeFiles, SECRETS_FILE } from '../../bootstrap';
import { consoleLogPath } from '../../constructs/private/domain-xslt';
import { seedContentHash } from '../../constructs/private/seed-images';
import { ClusterPlan, DomainType, NodePlan, NodeRole } from '../../spec';
import { everyStep } from '../support/every-step';
import { literal } from '../support/regexp';
import { ROOT } from '../support/tools';
import { TEST_SSH_KEY } from '../fixtures/bootstrap-helpers';
import { privateModeProblems } from './support/private-modes';
import { applyTotals, cdktf, CdktfRunOptions, destroyedCount, mustSucceed, plannedActions, planTotals } from './support/cdktf-cli';
import {
  blkid,
  buildTestImage,
  consoleSeedLine,
  dhcpHosts,
  dhcpLeases,
  domainFacts,
  hostRoutesOverlapping,
  isoFile,
  leftoversOf,
  mustRun,
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
  macToIp,
  OUT_DIR,
  plannedDomain,
  POOL_PATH,
  releaseRunLock,
  SECRETS_DIR,
  STATE_FILES,
  TEST_CIDR,
  TEST_CLUSTER,
  TEST_POOL,
  testClusterCliOptions,
  testSpecDoc,
  WORK_DIR,
  writeSpec,
} from './support/test-cluster';

/*
 * The deploy tier: the project's real CLI path (`npx cdktf deploy`, `diff`, `destroy`) against a
 * libvirtd on this machine, with a small cluster of its own (TEST_CLUSTER: its own name prefix,
 * network, pool directory, secrets and state), checked from the outside with virsh, qemu-img,
 * isoinfo and dig (asked from a namespace the tier plugs into the network's bridge, as a guest would).
 *
 * The base image is made on the spot (scripts/make-test-image.sh): it boots to a busybox init that
 * finds the NoCloud seed by its label as cloud-init would, prints the SHA-256 of its user-data on the
 * serial console (logged on the host), and takes a DHCP lease. The lease is what the provider reads a
 * domain's addresses back from, so a re-plan after deploy is only clean when every VM really booted.
 * cloud-init does not run on it; the seeds are checked byte for byte, from the host and from the guest.
 *
 * The tests run in order and share the cluster: deploy, inspect, re-plan, grow, destroy. Cleanup
 * (afterAll, so also after a failure): `cdktf destroy`, then a virsh sweep of anything still named
 * after the test cluster, then the state, secrets and synth output.
 */

const GIB = 1024 ** 3;
/** A VM is three resources: its disk, its NoCloud seed volume and its domain. */
const VM_PARTS = ['Disk', 'Seed', 'Domain'] as const;
/** Bound for every VM to boot (emulated, without KVM, on a busy 2-core machine) and take its lease. */
const LEASE_TIMEOUT_MS = 300_000;
const CLI_TIMEOUT_MS = 600_000;
/** Per test: jest applies `testTimeout` only globally, not from a project's config. */
const STEP_TIMEOUT_MS = 900_000;
/** A test's timeout past the sum of its own waits' bounds (CLI runs, lease waits), so a slow step fails on its bound. */
const timeoutFor = (cliRuns: number, leaseWaits: number) => cliRuns * CLI_TIMEOUT_MS + leaseWaits * LEASE_TIMEOUT_MS + 60_000;

const timings: Record<string, number> = {};
let domainType: DomainType;
let image: string;
let plan: ClusterPlan;
let grownPlan: ClusterPlan;
const specFile = path.join(WORK_DIR, 'spec.yaml');
const grownSpecFile = path.join(WORK_DIR, 'spec-grown.yaml');
/** The spec of the last deploy: what cleanup destroys with. */
let deployedSpecFile = specFile;

function cliOptions(file: string): CdktfRunOptions {
  return testClusterCliOptions(file, CLI_TIMEOUT_MS);
}

function timed(label: string, seconds: number): void {
  timings[label] = seconds;
  console.log(`deploy tier: ${label} took ${seconds.toFixed(1)} s (wall time)`);
}

/** The network's name, as ClusterNetwork names it by default. */
const networkName = () => `${TEST_CLUSTER}-net`;

/** One domain's identity, to tell "untouched" from "recreated" or "restarted". */
function identity(domain: string): { uuid: string; id: string } {
  return { uuid: virsh('domuuid', domain).trim(), id: virsh('domid', domain).trim() };
}

/** The construct paths of one VM's three resources. */
/** The construct group a node's VM is in: `LoadBalancer`, `ControlPlane`, `Etcd` or `WorkerPool-<pool>`. */
function groupOf(node: NodePlan): string {
  if (node.role === NodeRole.WORKER) return `WorkerPool-${node.pool}`;
  return node.role === NodeRole.LOAD_BALANCER ? 'LoadBalancer' : node.role === NodeRole.CONTROL_PLANE ? 'ControlPlane' : 'Etcd';
}

function vmResources(group: string, node: NodePlan): string[] {
  return VM_PARTS.map((part) => `Cluster/${group}/Node${node.index + 1}/${part}`);
}

function cleanup(): void {
  if (STATE_FILES.some((f) => fs.existsSync(f)) && fs.existsSync(deployedSpecFile)) {
    const run = cdktf('destroy', cliOptions(deployedSpecFile));
    if (run.status !== 0) console.log(`deploy tier cleanup: cdktf destroy exited ${run.status}; sweeping with virsh\n${run.output.slice(-3000)}`);
  }
  sweep(TEST_CLUSTER, POOL_PATH);
  for (const f of STATE_FILES) fs.rmSync(f, { force: true });
  fs.rmSync(WORK_DIR, { recursive: true, force: true });
}

let locked = false;

beforeAll(() => {
  // One run at a time per working tree: cleanup below removes whatever is named after the test cluster.
  acquireRunLock();
  locked = true;
  // CI starts with no daemon: build the image (its kernel is the KVM probe), then start libvirtd.
  const built = buildTestImage();
  image = built.image;
  domainType = startLibvirtd(built.kernel);
  console.log(`deploy tier: domain type ${domainType} (scripts/libvirtd.sh), base image ${image}`);

  // Leftovers of an interrupted run are ours by name; remove them before anything else.
  cleanup();
  const overlapping = hostRoutesOverlapping(TEST_CIDR);
  if (overlapping.length > 0) {
    throw new Error(`the test network ${TEST_CIDR} overlaps host routes ${overlapping.join(', ')}; change TEST_CIDR in __tests__/deploy/support/test-cluster.ts`);
  }

  plan = writeSpec(specFile, testSpecDoc(image, domainType, 1));
  grownPlan = writeSpec(grownSpecFile, testSpecDoc(image, domainType, 2));
}, 900_000);

afterAll(async () => {
  // Another run's lock means its cluster, not ours: leave it alone.
  if (!locked) return;
  // Each step runs whatever the one before it threw. The daemons this run started (none if libvirtd already ran)
  // are stopped once nothing of ours is left in them.
  await everyStep([cleanup, () => stopStartedLibvirtd(), releaseRunLock]);
  console.log(`deploy tier: wall times (s): ${JSON.stringify(timings)}`);
}, 900_000);

describe('cdktf deploy of a small cluster to a local libvirtd', () => {
  test('deploy creates every resource of the stack', () => {
    // GIVEN the test spec: one load balancer, one control plane, one worker
    expect(plan.nodes.map((n) => n.hostname)).toEqual(['k8s-lab-ci-lb-1', 'k8s-lab-ci-cp-1', `k8s-lab-ci-worker-${TEST_POOL}-1`]);

    // WHEN the project's CLI deploys it
    const run = mustSucceed(cdktf('deploy', cliOptions(specFile)), 'cdktf deploy');
    timed('deploy', run.seconds);

    // THEN Terraform made the network, the pool, the base image and three resources per VM
    const expected = 3 + VM_PARTS.length * plan.nodes.length;
    expect(applyTotals(run.output)).toEqual({ added: expected, changed: 0, destroyed: 0 });
    expect(STATE_FILES.filter((f) => fs.existsSync(f))).toContain(STATE_FILES[0]);
  }, STEP_TIMEOUT_MS);

  test('after a bare cdktf deploy, every secret-bearing output on the host is private: stack, secrets, kubeconfig and state 0600 in 0700 folders, each node seed and root disk 0600 in the pool', () => {
    // The tier runs `npx cdktf deploy` itself (not scripts/cdktf.sh), so its Terraform runs under this
    // process's umask: only the app's own umask and its pre-made 0600 state keep the state private.
    const problems = privateModeProblems({
      cluster: TEST_CLUSTER,
      outDir: OUT_DIR,
      secretsDir: SECRETS_DIR,
      stateFiles: STATE_FILES,
      poolPath: POOL_PATH,
      hostnames: plan.nodes.map((n) => n.hostname),
    });
    expect(problems).toEqual([]);
  }, STEP_TIMEOUT_MS);

  test('every domain runs with its planned vCPU, memory, MAC and network, as the probed domain type, and QEMU runs the CPU model for it (host under KVM, max under emulation)', () => {
    for (const node of plan.nodes) {
      expect({ node: node.hostname, ...domainFacts(node.hostname) }).toEqual(plannedDomain(node, domainType, networkName()));
    }
  }, STEP_TIMEOUT_MS);

  test("the network's DHCP host entries map every node's MAC to its IP", () => {
    expect(dhcpHosts(networkName())).toEqual(macToIp(plan));
  }, STEP_TIMEOUT_MS);

  test("the network's own DNS (dnsmasq at the gateway) resolves every node and the API name", () => {
    // GIVEN every node's name, the API name and a name that is not in the plan
    const unknown = `not-a-node.${plan.network.domain}`;
    const expected = new Map<string, string[]>([
      ...plan.nodes.map((node): [string, string[]] => [node.fqdn, [node.ip]]),
      [plan.apiEndpoint.fqdn, [plan.apiEndpoint.ip]],
      // The unknown name gets no answer: the checks are per name.
      [unknown, []],
    ]);
    // WHEN the network's dnsmasq is asked for each, from the tier's namespace on the bridge
    const answers = resolveAll(plan, networkName(), [...expected.keys()]);
    // THEN each planned name resolves to its planned address, and only to it
    expect(answers).toEqual(expected);
  }, STEP_TIMEOUT_MS);

  test('every node disk is a copy-on-write layer on the base image, at the node disk size', () => {
    const base = volPath(TEST_CLUSTER, `${TEST_CLUSTER}-base.qcow2`);
    // The base volume holds exactly the test image (qemu-img compare exits 0 only on equal content).
    mustRun('qemu-img', ['compare', '-U', base, image]);
    for (const node of plan.nodes) {
      const chain = JSON.parse(mustRun('qemu-img', ['info', '-U', '--backing-chain', '--output=json', volPath(TEST_CLUSTER, `${node.hostname}.qcow2`)])) as {
        filename: string;
        format: string;
        'virtual-size': number;
        'backing-filename'?: string;
      }[];
      expect(chain.map((c) => c.format)).toEqual(['qcow2', 'qcow2']);
      expect(chain[0]['virtual-size']).toBe(node.diskGiB * GIB);
      expect(chain[0]['backing-filename']).toBe(base);
      expect(chain[1].filename).toBe(base);
    }
  }, STEP_TIMEOUT_MS);

  test("every seed volume is the node's synthesized image: label cidata, exactly its rendered user-data and meta-data", () => {
    // GIVEN the secrets main.ts made on the first synth (read back, never generated here)
    expect(fs.existsSync(path.join(SECRETS_DIR, TEST_CLUSTER, SECRETS_FILE))).toBe(true);
    const secrets = loadOrCreateSecrets(TEST_CLUSTER, SECRETS_DIR);
    const stackDir = path.join(OUT_DIR, 'stacks', TEST_CLUSTER);
    const synthesized = JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8')) as { resource: Record<string, Record<string, { name: string; source?: string }>> };
    expect(synthesized.resource.libvirt_cloudinit_disk).toBeUndefined();
    const sourceOf = new Map(Object.values(synthesized.resource.libvirt_volume).map((v) => [v.name, v.source]));

    for (const node of plan.nodes) {
      // WHEN the node's seed volume is read back from the pool
      const rendered = renderNodeFiles(plan, node, secrets);
      const name = `${node.hostname}-seed-${seedContentHash({ 'user-data': rendered['user-data'], 'meta-data': rendered['meta-data'] })}.iso`;
      expect(seedVolumesOf(TEST_CLUSTER, node.hostname)).toEqual([name]);
      const seed = volPath(TEST_CLUSTER, name);

      // THEN it is the image synth wrote, byte for byte, labelled as NoCloud looks for it, holding the renderer's files
      expect(fs.readFileSync(seed).equals(fs.readFileSync(path.join(stackDir, sourceOf.get(name)!)))).toBe(true);
      expect(blkid(seed)).toEqual({ type: 'iso9660', label: 'cidata' });
      expect(isoFile(seed, 'user-data')).toBe(rendered['user-data']);
      expect(isoFile(seed, 'meta-data')).toBe(rendered['meta-data']);
      expect(rendered['user-data'].startsWith('#cloud-config\n')).toBe(true);
    }
    // The comparison tells nodes apart: one node's seed is not another's rendering.
    const [lb, cp] = plan.nodes;
    expect(isoFile(volPath(TEST_CLUSTER, seedVolumesOf(TEST_CLUSTER, lb.hostname)[0]), 'user-data')).not.toBe(renderNodeFiles(plan, cp, secrets)['user-data']);
  }, STEP_TIMEOUT_MS);

  test('every VM finds its seed by the label cidata, as NoCloud does, and reads its rendered user-data', async () => {
    const secrets = loadOrCreateSecrets(TEST_CLUSTER, SECRETS_DIR);
    // One bound for all the VMs, which boot together: within the test's timeout whatever the number of nodes.
    const deadline = Date.now() + LEASE_TIMEOUT_MS;
    for (const node of plan.nodes) {
      // GIVEN the SHA-256 of the node's rendered user-data
      const expected = createHash('sha256').update(renderNodeFiles(plan, node, secrets)['user-data']).digest('hex');
      // WHEN the guest's init has looked for the seed (its serial console, logged on the host)
      const line = await consoleSeedLine(node.hostname, consoleLogPath(node.hostname), Math.max(0, deadline - Date.now()));
      // THEN it found a block device labelled cidata (the seed, the second virtio disk) and read that file
      expect({ node: node.hostname, line }).toEqual({ node: node.hostname, line: `k8s-lab-seed: user-data sha256 ${expected} from /dev/vdb` });
    }
  }, STEP_TIMEOUT_MS);

  test('once every VM has its lease, a re-plan shows no changes', async () => {
    await waitForLeases(networkName(), macToIp(plan), LEASE_TIMEOUT_MS);
    const run = mustSucceed(cdktf('diff', cliOptions(specFile)), 'cdktf diff');
    timed('re-plan', run.seconds);
    expect(run.output).toContain('No changes. Your infrastructure matches the configuration.');
    expect(planTotals(run.output)).toBeUndefined();
  }, timeoutFor(1, 1));

  test('another image.source for the running cluster: the real plan replaces the base image and every root disk and domain, and the preflight, reading the state, refuses it', () => {
    // GIVEN the deployed spec with the base image at another path (a copy: the very same image)
    const copy = path.join(WORK_DIR, 'same-image-elsewhere.qcow2');
    fs.copyFileSync(image, copy);
    const movedSpecFile = path.join(WORK_DIR, 'spec-image-moved.yaml');
    writeSpec(movedSpecFile, { ...testSpecDoc(image, domainType, 1), image: { source: copy } });
    // WHEN it is planned THEN Terraform would replace the base image, each VM's disk (a layer on it) and each domain
    const diff = mustSucceed(cdktf('diff', cliOptions(movedSpecFile)), 'cdktf diff (image.source moved)');
    const replaced = plannedActions(diff.output).replaced;
    expect(replaced).toEqual(
      ['Cluster/BaseImage/Volume', ...plan.nodes.flatMap((n) => vmResources(groupOf(n), n).filter((r) => !r.endsWith('/Seed')))].sort(),
    );
    // AND the preflight, reading this cluster's state, refuses it before anything is touched
    const env = { ...process.env, CLUSTER_CONFIG: movedSpecFile, npm_config_update_notifier: 'false' };
    const pf = spawnSync('npm', ['run', '--silent', 'preflight', '--', '--state', STATE_FILES[0]], { cwd: ROOT, env, encoding: 'utf8', timeout: 180_000 });
    expect(`${pf.stdout}${pf.stderr}`).toMatch(new RegExp(`ERROR image\\.source: ${literal(copy)}\\n\\s+host: \\S+ records the base image ${TEST_CLUSTER}-base\\.qcow2 as made from ${literal(image)};`));
    expect(pf.status).toBe(1);
    fs.rmSync(copy);
  }, timeoutFor(1, 0));

  test('a user-data change (an SSH key added) replaces each node\'s seed and its domain, which comes up on its old root disk with the new seed; the next plan is clean, and so is the way back', async () => {
    // (Before replace_triggered_by, provider v0.8.3 planned the domains as updated in place, left each on its
    // deleted seed, and every later plan, deploy and destroy failed: "Storage volume not found".)
    // GIVEN the running domains and the spec with one SSH key more (every node's user-data changes)
    const before = new Map(plan.nodes.map((n) => [n.hostname, identity(n.hostname)]));
    const seedsBefore = new Map(plan.nodes.map((n) => [n.hostname, seedVolumesOf(TEST_CLUSTER, n.hostname)]));
    const keyedSpecFile = path.join(WORK_DIR, 'spec-ssh-key.yaml');
    writeSpec(keyedSpecFile, { ...testSpecDoc(image, domainType, 1), ssh: { authorizedKeys: [TEST_SSH_KEY] } });
    // WHEN it is planned THEN each seed is replaced, and each domain with it; nothing else
    const diff = mustSucceed(cdktf('diff', cliOptions(keyedSpecFile)), 'cdktf diff (ssh key)');
    expect(plannedActions(diff.output)).toEqual({
      created: [],
      updated: [],
      replaced: plan.nodes.flatMap((n) => vmResources(groupOf(n), n).filter((r) => !r.endsWith('/Disk'))).sort(),
      destroyed: [],
    });
    // WHEN it is deployed
    deployedSpecFile = keyedSpecFile;
    const run = mustSucceed(cdktf('deploy', cliOptions(keyedSpecFile)), 'cdktf deploy (ssh key)');
    timed('deploy of a user-data change', run.seconds);
    // THEN every domain is a new one (new UUID), running on its root disk and its new seed, and the old seeds are gone
    for (const node of plan.nodes) {
      expect(identity(node.hostname).uuid).not.toBe(before.get(node.hostname)!.uuid);
      expect(virsh('domstate', node.hostname).trim()).toBe('running');
      const [seed] = seedVolumesOf(TEST_CLUSTER, node.hostname);
      expect(seed).not.toBe(seedsBefore.get(node.hostname)![0]);
      expect(virsh('domblklist', node.hostname).split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => /^vd[ab]$/.test(f[0]))).toEqual([
        ['vda', `${node.hostname}.qcow2`],
        ['vdb', seed],
      ]);
    }
    // AND a re-plan is clean
    await waitForLeases(networkName(), macToIp(plan), LEASE_TIMEOUT_MS);
    expect(mustSucceed(cdktf('diff', cliOptions(keyedSpecFile)), 'cdktf diff (after the ssh key)').output).toContain('No changes. Your infrastructure matches the configuration.');
    // AND the way back (the key removed) deploys too, and leaves a clean plan
    deployedSpecFile = specFile;
    mustSucceed(cdktf('deploy', cliOptions(specFile)), 'cdktf deploy (ssh key removed)');
    await waitForLeases(networkName(), macToIp(plan), LEASE_TIMEOUT_MS);
    expect(mustSucceed(cdktf('diff', cliOptions(specFile)), 'cdktf diff (after the way back)').output).toContain('No changes. Your infrastructure matches the configuration.');
  }, timeoutFor(5, 2));

  test('a seed volume a killed deploy left behind (in the pool, not in the state) is taken over by the next deploy', async () => {
    // GIVEN lb-1's seed volume exists in the pool, damaged, and the state does not record it: what a
    // deploy killed between creating the volume and saving the state leaves (it was "already exists"
    // with the old libvirt_cloudinit_disk)
    const lb = plan.loadBalancers[0];
    const [seedName] = seedVolumesOf(TEST_CLUSTER, lb.hostname);
    const seed = volPath(TEST_CLUSTER, seedName);
    const good = fs.readFileSync(seed);
    const domainBefore = identity(lb.hostname);
    fs.writeFileSync(seed, Buffer.alloc(good.length));
    const state = JSON.parse(fs.readFileSync(STATE_FILES[0], 'utf8')) as { serial: number; resources: { type: string; name: string }[] };
    const kept = state.resources.filter((r) => !(r.type === 'libvirt_volume' && /^Cluster_LoadBalancer_Node1_Seed_/.test(r.name)));
    expect(state.resources.length - kept.length).toBe(1);
    fs.writeFileSync(STATE_FILES[0], JSON.stringify({ ...state, serial: state.serial + 1, resources: kept }, null, 2));

    // WHEN the cluster is deployed again
    const run = mustSucceed(cdktf('deploy', cliOptions(specFile)), 'cdktf deploy (over a left-behind seed)');
    timed('deploy over a left-behind seed', run.seconds);

    // THEN the provider took the volume over and uploaded the image again (no "already exists"), under
    // the same key, so the domain that attaches it was left alone (same UUID and domain ID)
    expect(applyTotals(run.output)).toEqual({ added: 1, changed: 0, destroyed: 0 });
    expect(seedVolumesOf(TEST_CLUSTER, lb.hostname)).toEqual([seedName]);
    expect(fs.readFileSync(seed).equals(good)).toBe(true);
    expect(identity(lb.hostname)).toEqual(domainBefore);
    await waitForLeases(networkName(), macToIp(plan), LEASE_TIMEOUT_MS);
    expect(mustSucceed(cdktf('diff', cliOptions(specFile)), 'cdktf diff (after the take-over)').output).toContain('No changes. Your infrastructure matches the configuration.');
  }, timeoutFor(2, 1));

  test('growing the worker pool by one adds exactly one VM and touches no other', async () => {
    // GIVEN the running domains and the grown spec (one more worker in the same pool)
    const before = new Map(plan.nodes.map((n) => [n.hostname, identity(n.hostname)]));
    const newWorker = grownPlan.workers[grownPlan.workers.length - 1];
    expect(grownPlan.nodes.filter((n) => !before.has(n.hostname))).toEqual([newWorker]);

    // WHEN it is planned: the new VM's three resources are created, and only the network changes,
    // in place (its DNS host list gains the new worker); nothing is replaced or destroyed
    const diff = mustSucceed(cdktf('diff', cliOptions(grownSpecFile)), 'cdktf diff (grown)');
    timed('plan of the growth', diff.seconds);
    expect(planTotals(diff.output)).toEqual({ add: 3, change: 1, destroy: 0 });
    expect(plannedActions(diff.output)).toEqual({
      created: vmResources(`WorkerPool-${TEST_POOL}`, newWorker).sort(),
      updated: ['Cluster/Network/Network'],
      replaced: [],
      destroyed: [],
    });

    // AND deployed
    deployedSpecFile = grownSpecFile;
    const run = mustSucceed(cdktf('deploy', cliOptions(grownSpecFile)), 'cdktf deploy (grown)');
    timed('deploy of the growth', run.seconds);
    expect(applyTotals(run.output)).toEqual({ added: 3, changed: 1, destroyed: 0 });

    // THEN the old domains are the same domains, never restarted (same UUID and domain ID)
    for (const [hostname, id] of before) expect(identity(hostname)).toEqual(id);
    // AND the new worker runs, with its DHCP entry, its DNS name and, once booted, its lease
    expect(virsh('domstate', newWorker.hostname).trim()).toBe('running');
    expect(dhcpHosts(networkName())).toEqual(macToIp(grownPlan));
    expect(resolveAll(grownPlan, networkName(), [newWorker.fqdn]).get(newWorker.fqdn)).toEqual([newWorker.ip]);
    await waitForLeases(networkName(), macToIp(grownPlan), LEASE_TIMEOUT_MS);
    expect(dhcpLeases(networkName()).get(newWorker.mac.toLowerCase())).toBe(newWorker.ip);

    // AND a re-plan is clean again
    const replan = mustSucceed(cdktf('diff', cliOptions(grownSpecFile)), 'cdktf diff (after growth)');
    expect(replan.output).toContain('No changes. Your infrastructure matches the configuration.');
  }, timeoutFor(3, 1));

  test('destroy leaves no domain, volume, pool or network of the test cluster behind', () => {
    // GIVEN the grown cluster exists
    expect(leftoversOf(TEST_CLUSTER).domains).toHaveLength(grownPlan.nodes.length);

    // WHEN the CLI destroys it
    const run = mustSucceed(cdktf('destroy', cliOptions(grownSpecFile)), 'cdktf destroy');
    timed('destroy', run.seconds);

    // THEN every resource of the state went, and libvirt has nothing of the test cluster left
    expect(destroyedCount(run.output)).toBe(3 + VM_PARTS.length * grownPlan.nodes.length);
    expect(leftoversOf(TEST_CLUSTER)).toEqual({ domains: [], networks: [], pools: [] });
    expect(fs.existsSync(POOL_PATH)).toBe(false);
  }, STEP_TIMEOUT_MS);
});
