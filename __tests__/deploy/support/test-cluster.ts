import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import {
  ClusterPlan,
  ClusterSpecInput,
  DomainType,
  EtcdTopology,
  NodePlan,
  parseClusterSpec,
  planCluster,
} from '../../../spec';
import { processIsGone } from '../../support/processes';
import { ROOT } from '../../support/tools';
import type { CdktfRunOptions } from './cdktf-cli';

/** The test cluster's name: prefixes every libvirt object it makes, and nothing of the host's. */
export const TEST_CLUSTER = 'k8s-lab-ci';
/**
 * Its node network: a /24 of 10.0.0.0/8 that neither the host (see hostRoutesOverlapping) nor the
 * spec's pod/service defaults (10.244.0.0/16, 10.96.0.0/12) use.
 */
export const TEST_CIDR = '10.213.7.0/24';
/** The worker pool that grows from one worker to two. */
export const TEST_POOL = 'ci';

/** Everything one run writes, under .tools/ (git-ignored): specs, secrets, synth output, the pool. */
export const WORK_DIR = path.join(ROOT, '.tools', 'deploy-tier');
export const SECRETS_DIR = path.join(WORK_DIR, 'secrets');
export const OUT_DIR = path.join(WORK_DIR, 'cdktf.out');
export const POOL_PATH = path.join(WORK_DIR, 'pool');
/** cdktf's default local state of the stack `name`: terraform.<stack>.tfstate at the project root. */
export function stateFilesOf(name: string): string[] {
  return [`terraform.${name}.tfstate`, `terraform.${name}.tfstate.backup`].map((f) => path.join(ROOT, f));
}
export const STATE_FILES = stateFilesOf(TEST_CLUSTER);

/** How the CLI runs for the test cluster deployed from `specFile` (its secrets and synth output). */
export function testClusterCliOptions(specFile: string, timeoutMs: number): CdktfRunOptions {
  return { specFile, secretsDir: SECRETS_DIR, outDir: OUT_DIR, timeoutMs };
}

/**
 * The smallest cluster the spec allows with one of each role: a control plane at kubeadm's floor
 * (2 vCPU, 1700 MiB), one worker pool of `workers` workers, one load balancer, 5 GiB disks.
 */
export function testSpecDoc(image: string, domainType: DomainType, workers: number): ClusterSpecInput {
  return {
    name: TEST_CLUSTER,
    libvirt: { uri: 'qemu:///system', poolPath: POOL_PATH, domainType },
    image: { source: image },
    network: { cidr: TEST_CIDR, domain: 'ci.k8s-lab.test' },
    controlPlane: { count: 1, vcpu: 2, memoryMiB: 1700, diskGiB: 5 },
    workerPools: [{ name: TEST_POOL, count: workers, vcpu: 1, memoryMiB: 1024, diskGiB: 5 }],
    loadBalancer: { count: 1, vcpu: 1, memoryMiB: 512, diskGiB: 5 },
  };
}

/**
 * The second test cluster, of the non-default topology (README "Topologies"): external etcd and two
 * load balancers sharing a virtual IP. Its name is no `TEST_CLUSTER-…` (nor the reverse), so neither
 * cluster's sweep (libvirt-host.ts `isNamedAfter`) reaches the other's objects.
 */
export const HA_CLUSTER = 'k8s-lab-ha';
/** Its node network: the /24 after TEST_CIDR. */
export const HA_CIDR = '10.213.8.0/24';
/** The API's virtual IP: host offset 2, the first the address plan keeps free for it. */
export const HA_VIRTUAL_IP = '10.213.8.2';
/** Everything its run writes, apart from TEST_CLUSTER's WORK_DIR (which that run deletes whole). */
export const HA_WORK_DIR = path.join(ROOT, '.tools', 'deploy-tier-ha');
export const HA_SECRETS_DIR = path.join(HA_WORK_DIR, 'secrets');
export const HA_OUT_DIR = path.join(HA_WORK_DIR, 'cdktf.out');
export const HA_POOL_PATH = path.join(HA_WORK_DIR, 'pool');
export const HA_STATE_FILES = stateFilesOf(HA_CLUSTER);

/**
 * The smallest cluster of the non-default topology: one external etcd member (an odd count, so no
 * warning), two load balancers with the virtual IP, one control plane at kubeadm's floor, no workers
 * (their role is covered by TEST_CLUSTER), 5 GiB disks.
 */
export function haSpecDoc(image: string, domainType: DomainType): ClusterSpecInput {
  return {
    name: HA_CLUSTER,
    libvirt: { uri: 'qemu:///system', poolPath: HA_POOL_PATH, domainType },
    image: { source: image },
    network: { cidr: HA_CIDR, domain: 'ha.k8s-lab.test' },
    controlPlane: { count: 1, vcpu: 2, memoryMiB: 1700, diskGiB: 5 },
    workerPools: [],
    etcd: { topology: EtcdTopology.EXTERNAL, count: 1, vcpu: 1, memoryMiB: 1024, diskGiB: 5 },
    loadBalancer: { count: 2, virtualIp: HA_VIRTUAL_IP, vcpu: 1, memoryMiB: 512, diskGiB: 5 },
  };
}

/** MAC (lower case) => IP of every node of a plan. */
export function macToIp(plan: ClusterPlan): Map<string, string> {
  return new Map(plan.nodes.map((n) => [n.mac.toLowerCase(), n.ip]));
}

/** Writes a spec document as YAML to `file` and returns the plan the app will make of it. */
export function writeSpec(file: string, doc: ClusterSpecInput): ClusterPlan {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, YAML.stringify(doc));
  return planCluster(parseClusterSpec(doc, file).spec);
}

/**
 * Held while a run owns the libvirt objects the tier names (TEST_CLUSTER, HA_CLUSTER, the preflight's
 * `k8s-lab-pf…`): two runs would destroy each other's. The names are the host's, whichever clone runs the
 * tier, so the lock is too: in /run (root's, emptied at boot). Each test file takes it in beforeAll and
 * releases it in afterAll, so the tier's files run one after another (`--runInBand`, as `npm run test:deploy`
 * does), and two clones' runs one after the other.
 */
const LOCK_FILE = '/run/k8s-lab-deploy-tier.lock';

/**
 * Takes the run lock (a file holding this process's PID), or throws naming the live process that
 * holds it. A lock whose process is gone is stale and taken over.
 */
export function acquireRunLock(): void {
  fs.mkdirSync(path.dirname(LOCK_FILE), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(LOCK_FILE, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(fs.readFileSync(LOCK_FILE, 'utf8').trim());
    if (!processIsGone(holder)) {
      throw new Error(
        `another deploy tier run (pid ${holder}) owns the test clusters ${TEST_CLUSTER} and ${HA_CLUSTER} and the preflight's objects (${LOCK_FILE}); wait for it to finish, and run the tier's files one at a time (jest --runInBand, as npm run test:deploy does)`,
      );
    }
    fs.rmSync(LOCK_FILE, { force: true });
  }
  throw new Error(`could not take ${LOCK_FILE}`);
}

/** Releases the run lock if this process holds it. */
export function releaseRunLock(): void {
  if (fs.existsSync(LOCK_FILE) && fs.readFileSync(LOCK_FILE, 'utf8').trim() === String(process.pid)) fs.rmSync(LOCK_FILE);
}

/**
 * The DomainFacts (support/libvirt-host.ts) a running node must show, labelled with its hostname. QEMU's CPU: the
 * host's under KVM (host-passthrough), `max` under emulation (libvirt's `maximum`), never the default qemu64.
 */
export function plannedDomain(node: NodePlan, domainType: DomainType, network: string) {
  const qemuCpu = domainType === DomainType.KVM ? 'host' : 'max';
  return { node: node.hostname, state: 'running', vcpu: node.vcpu, memoryKiB: node.memoryMiB * 1024, type: domainType, macs: [node.mac.toLowerCase()], networks: [network], qemuCpu };
}
