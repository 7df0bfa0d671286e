import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClusterSecrets, loadOrCreateSecrets, renderNodeFiles, writeAdminKubeconfig } from '../../../bootstrap';
import { pollUntil } from '../../../host/poll-until';
import { ClusterPlan, NodePlan, NodeRole, parseClusterSpecYaml, planCluster } from '../../../spec';
import { everyStep } from '../../support/every-step';
import { makeRunDir, removeRunDirsOfDeadRuns } from '../../support/run-dirs';
import { ROOT } from '../../support/tools';
import { CommandResult, DockerInNetns, ensureDir } from './docker-in-netns';
import { createClusterNetwork, dnsmasqArgs, startNodeContainer, writeHarnessDir, writeSeedDir } from './node-containers';
import { Timeline } from './timeline';

/** The node image `npm run image` built: .tools/node-image links to its cache folder. */
export function nodeImage(): { rootfs: string; tag: string; manifest: string } {
  const link = path.join(ROOT, '.tools', 'node-image');
  if (!fs.existsSync(path.join(link, 'rootfs.tar'))) throw new Error(`${link}/rootfs.tar is missing; run 'npm run image' (after 'npm run tools')`);
  const dir = fs.realpathSync(link);
  return { rootfs: path.join(dir, 'rootfs.tar'), tag: `k8s-lab-node:${path.basename(dir)}`, manifest: path.join(dir, 'image-manifest.json') };
}

/** Where the tier's Docker keeps its images between runs: beside the node image's cache, outside the clone. */
function dockerDataRoot(): string {
  const cache = process.env.K8S_LAB_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'k8s-lab');
  return path.join(cache, 'e2e-docker');
}

/** The end-to-end tier's work folders in /tmp: `k8s-lab-e2e-<pid>-<label>-XXXXXX` (support/run-dirs.ts). */
const E2E_RUN_DIR_PREFIX = 'k8s-lab-e2e-';

/**
 * A cluster of container nodes built from one spec: each node is a container of the node image
 * with its planned hostname and IP, its own rendered user-data as NoCloud seed, and systemd as
 * PID 1; the real cloud-init runs the seed at boot. The harness starts containers and observes —
 * it never runs a bootstrap step and never edits a rendered file.
 */
export class E2eCluster {
  readonly timeline: Timeline;

  private constructor(
    readonly plan: ClusterPlan,
    readonly lab: DockerInNetns,
    readonly workDir: string,
    timeline: Timeline,
    /** The admin kubeconfig made on the host (server: the load balancer's address). */
    readonly kubeconfig: string,
    /** The cluster's secrets, as synth made them (the tier checks that no node's logs show them). */
    readonly secrets: ClusterSecrets,
    /** The host's inotify limits this run raised, with the values it found: stop() restores them. */
    private readonly raisedInotify: RaisedLimits,
  ) {
    this.timeline = timeline;
  }

  /** Renders the spec's nodes, starts the lab, the network's DNS and every node container. */
  static async start(specYaml: string, label: string): Promise<E2eCluster> {
    // Node containers hold CAP_SYS_ADMIN and see the host's /proc/swaps: prepare-node's `swapoff -a`
    // would turn off the host's swap. Refuse, rather than change the host.
    const swaps = fs.readFileSync('/proc/swaps', 'utf8').trim().split('\n').slice(1);
    if (swaps.length > 0) throw new Error(`the host has swap on (${swaps.join('; ')}): a node container's 'swapoff -a' would turn it off host-wide; run the end-to-end tier on a host without swap`);
    const plan = planCluster(parseClusterSpecYaml(specYaml, `e2e spec ${label}`).spec);
    const image = nodeImage();
    // A killed run's work folder (its cluster's CA keys) goes first; then this run's, named with its pid.
    removeRunDirsOfDeadRuns(E2E_RUN_DIR_PREFIX);
    const workDir = makeRunDir(E2E_RUN_DIR_PREFIX, label);
    fs.chmodSync(workDir, 0o700);
    // Raised last before the try whose failure (and stop()) restores them.
    const raised = raiseInotifyLimits();
    let lab: DockerInNetns;
    let prepared: { kubeconfig: string; seeds: Map<string, string>; harnessDir: string; secrets: ClusterSecrets };
    try {
      const secretsDir = path.join(workDir, 'secrets');
      const secrets = loadOrCreateSecrets(plan.spec.name, secretsDir, undefined, { members: plan.etcdNodes });
      // The same admin kubeconfig synth writes for a user: issued here with the cluster CA.
      const kubeconfig = writeAdminKubeconfig(plan, secrets, secretsDir, path.join(workDir, `${plan.spec.name}.kubeconfig`));
      const seeds = new Map(plan.nodes.map((n) => [n.hostname, writeSeedDir(workDir, n, renderNodeFiles(plan, n, secrets))]));
      prepared = { kubeconfig, seeds, harnessDir: writeHarnessDir(workDir, plan), secrets };
      lab = await DockerInNetns.start('k8s-lab-e2e', dockerDataRoot());
    } catch (e) {
      // The work folder holds the cluster's CA keys and kubeconfig: nothing of it stays behind.
      fs.rmSync(workDir, { recursive: true, force: true });
      restoreInotifyLimits(raised);
      throw e;
    }
    const { kubeconfig, seeds, harnessDir, secrets } = prepared;
    const timeline = new Timeline();
    const cluster = new E2eCluster(plan, lab, workDir, timeline, kubeconfig, secrets, raised);
    try {
      if ((await lab.docker(['image', 'inspect', image.tag])).status !== 0) {
        await lab.mustDocker(['image', 'prune', '--all', '--force', '--filter', 'label!=keep']);
        await lab.mustDocker(['import', image.rootfs, image.tag], { timeoutMs: 600_000 });
        process.stderr.write(`end-to-end tier: imported the node image into the tier's docker as ${image.tag}\n`);
      }
      // Leftovers of a run that was killed before it could clean up (this daemon and its data are the tier's own).
      await lab.removeAll(plan.spec.name);
      const network = await createClusterNetwork(lab, plan);
      const dns = lab.spawnInNetns('dnsmasq', dnsmasqArgs(plan, path.join(workDir, 'dnsmasq.pid')));
      dns.stderr?.setEncoding('utf8').on('data', (d: string) => cluster.dnsLog.push(d));
      timeline.start();
      for (const node of plan.nodes) {
        await startNodeContainer(lab, node, { image: image.tag, network, seedDir: seeds.get(node.hostname)!, harnessDir });
      }
      timeline.mark(`${plan.nodes.length} containers started`);
      return cluster;
    } catch (e) {
      await cluster.stop();
      throw e;
    }
  }

  readonly dnsLog: string[] = [];

  /**
   * Stops and removes every container, network and volume of the cluster, the DNS and the lab, deletes the work
   * folder (the CA keys) and restores the inotify limits; each whatever the one before it threw.
   */
  async stop(): Promise<void> {
    await everyStep([() => this.lab.stop(this.plan.spec.name), () => fs.rmSync(this.workDir, { recursive: true, force: true }), () => restoreInotifyLimits(this.raisedInotify)]);
  }

  /** `docker exec NODE ARGS` (the node by hostname). */
  exec(node: NodePlan | string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
    const name = typeof node === 'string' ? node : node.hostname;
    return this.lab.docker(['exec', ...(options.input !== undefined ? ['-i'] : []), name, ...args], options);
  }

  /** `docker exec` that must succeed: throws with the command, the node and its output otherwise. */
  async mustExec(node: NodePlan, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
    const r = await this.exec(node, args, options);
    if (r.status !== 0) throw new Error(`${args.join(' ')} on ${node.hostname} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return r;
  }

  /**
   * kubectl on a control plane, with its admin kubeconfig, whose server is `api.<domain>`: every
   * call goes through the load balancer, as a user's would. `via` picks the control plane
   * (default: the first one whose container runs).
   */
  async kubectl(args: readonly string[], options: { input?: string; timeoutMs?: number; via?: NodePlan } = {}): Promise<CommandResult> {
    const via = options.via ?? (await this.runningControlPlane());
    return this.exec(via, ['kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', '--request-timeout=20s', ...args], options);
  }

  /** kubectl that must succeed; returns stdout. */
  async mustKubectl(args: readonly string[], options: { input?: string; timeoutMs?: number; via?: NodePlan } = {}): Promise<string> {
    const r = await this.kubectl(args, options);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** A control plane whose container is running and whose admin kubeconfig exists. */
  async runningControlPlane(): Promise<NodePlan> {
    for (const cp of this.plan.controlPlanes) {
      const r = await this.exec(cp, ['test', '-s', '/etc/kubernetes/admin.conf'], { timeoutMs: 10_000 });
      if (r.status === 0) return cp;
    }
    throw new Error(`no control plane of ${this.plan.spec.name} runs with /etc/kubernetes/admin.conf`);
  }

  /** {@link pollUntil} `probe` every `everyMs`; a timeout's error ends with {@link diagnose}. */
  waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 2_000): Promise<T> {
    return pollUntil(what, timeoutMs, probe, { everyMs, diagnose: () => this.diagnose() });
  }

  /** Each node's cloud-init status and the tail of its bootstrap output, for a failure report. */
  async diagnose(): Promise<string> {
    const parts: string[] = [];
    for (const node of this.plan.nodes) {
      const status = await this.exec(node, ['cloud-init', 'status', '--long'], { timeoutMs: 15_000 });
      const out = await this.exec(node, ['tail', '-n', '25', '/var/log/cloud-init-output.log'], { timeoutMs: 15_000 });
      parts.push(`--- ${node.hostname} (${node.role}): ${status.stdout.trim().replace(/\n/g, '; ')}\n${out.stdout}${out.stderr}`);
    }
    return parts.join('\n');
  }

  /** The nodes of a role. */
  nodesOf(role: NodeRole): readonly NodePlan[] {
    return this.plan.nodes.filter((n) => n.role === role);
  }

  /** Files the tier writes for the run (logs, kubeconfigs), in its private work folder. */
  file(name: string): string {
    return path.join(ensureDir(this.workDir), name);
  }
}

/**
 * Every node's systemd, kubelet and containerd take inotify instances, and those count per user across
 * the whole host (all containers run as root): with the default 128 the kubelet of the sixth node fails
 * ("inotify_init: too many open files"). Raised for the run where lower, to what kind's documentation asks,
 * and restored when the cluster stops (a run killed first leaves them raised); each change is said on stderr.
 */
export const INOTIFY_LIMITS: Readonly<Record<string, number>> = { max_user_instances: 8192, max_user_watches: 524288 };

/** The limits a run raised: for each, the value it found and the value it set. */
type RaisedLimits = readonly { readonly name: string; readonly found: number; readonly set: number }[];

function raiseInotifyLimits(): RaisedLimits {
  const raised: { name: string; found: number; set: number }[] = [];
  for (const [name, want] of Object.entries(INOTIFY_LIMITS)) {
    const file = `/proc/sys/fs/inotify/${name}`;
    const have = Number(fs.readFileSync(file, 'utf8').trim());
    if (have >= want) continue;
    fs.writeFileSync(file, `${want}\n`);
    raised.push({ name, found: have, set: want });
    process.stderr.write(`end-to-end tier: raised fs.inotify.${name} from ${have} to ${want} for the run (node containers share the host's per-user inotify limit)\n`);
  }
  return raised;
}

/** Puts back what raiseInotifyLimits changed, where the value is still the one it set (else someone else set it). */
function restoreInotifyLimits(raised: RaisedLimits): void {
  for (const { name, found, set } of raised) {
    const file = `/proc/sys/fs/inotify/${name}`;
    if (Number(fs.readFileSync(file, 'utf8').trim()) !== set) continue;
    fs.writeFileSync(file, `${found}\n`);
    process.stderr.write(`end-to-end tier: restored fs.inotify.${name} to ${found}\n`);
  }
}
