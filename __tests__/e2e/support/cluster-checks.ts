import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { etcHosts } from '../../../bootstrap';
import { NodeRole } from '../../../spec';
import { REGISTER_TS, ROOT, TOOL_PATH } from '../../support/tools';
import { expectedWorkerMetadata, getItems, isReady, KubeNode, KubePod, waitForAllNodesReady } from './checks';
import { E2eCluster } from './e2e-cluster';
import { agnhostImage, applyWorkloads, hostKubeconfig, synthManifests } from './workloads';
import { etcdctl, etcdMembersOf, loseAControlPlane } from './failover';
import { describeDemoChecks } from './demo-checks';

/**
 * The checks kubeadm's own HA tests make (kinder's waiter, cluster-info and smoke test), the workloads
 * of dist/, the self-healing demo and losing a control plane, on a cluster of container nodes built
 * from `spec`. `extra` adds topology-specific tests, run after these with the same cluster.
 */
export function describeClusterChecks(
  title: string,
  spec: object,
  label: string,
  extra: (cluster: () => E2eCluster) => void = () => undefined,
  options: { demos: boolean } = { demos: true },
): void {
  const MINUTE = 60_000;
  let cluster: E2eCluster;
  let starting: Promise<E2eCluster> | undefined;

  beforeAll(async () => {
    starting = E2eCluster.start(YAML.stringify(spec), label);
    cluster = await starting;
  }, 15 * MINUTE);

  afterAll(async () => {
    // A start that outlived beforeAll's timeout is still going: wait for it, then stop what it made (a start
    // that failed has stopped its own).
    const started = await starting?.catch(() => undefined);
    if (started) {
      process.stdout.write(`${started.timeline.render(`timeline of ${started.plan.spec.name} (seconds since the first docker run)`)}\n`);
      await started.stop();
    }
  }, 10 * MINUTE);

  describe(title, () => {
    test('every node resolves api.<domain> and itself through its own /etc/hosts (as cloud-init wrote it), and every other planned node through the network\'s DNS, each to its planned address', async () => {
      const api = cluster.plan.apiEndpoint;
      // From the plan itself, not from dnsHostsOf, which configured the network's DNS.
      const planned = [{ name: api.fqdn, ip: api.ip }, ...cluster.plan.nodes.map((n) => ({ name: n.fqdn, ip: n.ip }))];
      for (const node of cluster.plan.nodes) {
        // Docker's /etc/hosts until cloud-init's first stage writes the node's own (write_files, seconds after boot).
        const want = `${etcHosts(cluster.plan, node).join('\n')}\n`;
        let hosts = '';
        await cluster
          .waitFor(`${node.hostname}'s /etc/hosts as cloud-init was given it`, 5 * MINUTE, async () => ((hosts = (await cluster.exec(node, ['cat', '/etc/hosts'])).stdout) === want ? true : undefined))
          .catch(() => undefined);
        expect({ node: node.hostname, hosts }).toEqual({ node: node.hostname, hosts: want });
        // getent hosts, as the node's programs resolve: /etc/hosts first, then the DNS of resolv.conf; one line per name.
        const answers = await cluster.exec(node, ['getent', 'hosts', ...planned.map((p) => p.name)]);
        const answered = answers.stdout.trim().split('\n').map((l) => ({ name: l.trim().split(/\s+/)[1], ip: l.trim().split(/\s+/)[0] }));
        expect({ node: node.hostname, answered }).toEqual({ node: node.hostname, answered: planned });
      }
    });

    test('every planned node registers and becomes Ready, through the load balancer', async () => {
      const nodes = await waitForAllNodesReady(cluster, 12 * MINUTE);
      expect(nodes.map((n) => n.metadata.name).sort()).toEqual(cluster.plan.nodes.filter((n) => n.role === NodeRole.CONTROL_PLANE || n.role === NodeRole.WORKER).map((n) => n.hostname).sort());
    });

    test('no node\'s cloud-init output shows the bootstrap token or the certificate key: its output log, cloud-init\'s log, its journal, its console', async () => {
      const { bootstrapToken, certificateKey } = cluster.secrets;
      const secrets = { 'the bootstrap token': bootstrapToken, "the token's secret half": bootstrapToken.split('.')[1], 'the certificate key': certificateKey, 'a private key': 'PRIVATE KEY-----' };
      const found: string[] = [];
      let initOutput = '';
      for (const node of cluster.plan.nodes) {
        // Every bootstrap step has run and written its output: cloud-init's final stage is done (0 done, 2 done
        // with recoverable errors; anything else, a timeout included, means the logs may be incomplete).
        const done = await cluster.exec(node, ['cloud-init', 'status', '--wait'], { timeoutMs: 15 * MINUTE });
        if (done.status !== 0 && done.status !== 2) throw new Error(`cloud-init status --wait on ${node.hostname} ended ${done.status}: ${done.stdout}${done.stderr}`);
        const sources = {
          '/var/log/cloud-init-output.log': await cluster.exec(node, ['cat', '/var/log/cloud-init-output.log']),
          '/var/log/cloud-init.log': await cluster.exec(node, ['cat', '/var/log/cloud-init.log']),
          'the journal': await cluster.exec(node, ['journalctl', '--no-pager', '-o', 'cat'], { timeoutMs: 60_000 }),
          'the console': await cluster.lab.docker(['logs', node.hostname]),
        };
        for (const [where, r] of Object.entries(sources)) {
          if (r.status !== 0) throw new Error(`reading ${where} of ${node.hostname} exited ${r.status}: ${r.stderr}`);
          for (const [what, value] of Object.entries(secrets)) if (`${r.stdout}${r.stderr}`.includes(value)) found.push(`${what} in ${node.hostname}'s ${where}`);
        }
        if (node === cluster.plan.controlPlanes[0]) initOutput = sources['/var/log/cloud-init-output.log'].stdout;
      }
      // The output read is kubeadm init's own: its closing lines are there.
      expect(initOutput).toContain('Your Kubernetes control-plane has initialized successfully!');
      expect(found).toEqual([]);
    });

    test('on each control plane the kube-apiserver, kube-controller-manager and kube-scheduler static pods are Ready', async () => {
      const pods = await cluster.waitFor('control-plane static pods Ready', 5 * MINUTE, async () => {
        const all = await getItems<KubePod>(cluster, ['pods', '-n', 'kube-system']);
        const missing = cluster.plan.controlPlanes.flatMap((cp) =>
          ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => `${c}-${cp.hostname}`).filter((name) => !all.some((p) => p.metadata.name === name && isReady(p))),
        );
        if (missing.length > 0) throw new Error(`not Ready: ${missing.join(', ')}`);
        return all;
      });
      expect(pods.filter((p) => /^kube-(apiserver|controller-manager|scheduler)-/.test(p.metadata.name) && isReady(p))).toHaveLength(9);
    });

    test('etcdctl member list shows 3 started members, one per planned etcd member', async () => {
      const members = etcdMembersOf(cluster);
      const out = await etcdctl(cluster, ['member', 'list', '--write-out=json'], ['https://127.0.0.1:2379']);
      const listed = (JSON.parse(out) as { members: { name: string; clientURLs?: string[] }[] }).members;
      expect(listed.map((m) => m.name).sort()).toEqual(members.map((m) => m.hostname).sort());
      // A started member has client URLs; one that was added but never started has none.
      expect(listed.every((m) => (m.clientURLs ?? []).length > 0)).toBe(true);
    });

    test('CoreDNS resolves kubernetes.default from a pod', async () => {
      // kinder's smoke test waits for CoreDNS first: its pods become Ready once the CNI is up.
      await cluster.mustKubectl(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=180s'], { timeoutMs: 4 * MINUTE });
      const name = 'e2e-dns-check';
      await cluster.mustKubectl(['run', name, `--image=${agnhostImage()}`, '--restart=Never', '--command', '--', '/agnhost', 'connect', 'kubernetes.default:443', '--timeout=5s']);
      try {
        const phase = await cluster.waitFor('the DNS check pod finishes', 3 * MINUTE, async () => {
          const p = (await cluster.mustKubectl(['get', 'pod', name, '-o', 'jsonpath={.status.phase}'])).trim();
          return p === 'Succeeded' || p === 'Failed' ? p : undefined;
        });
        const logs = await cluster.kubectl(['logs', name]);
        expect({ phase, logs: logs.stdout.trim() }).toEqual({ phase: 'Succeeded', logs: '' });
      } finally {
        await cluster.kubectl(['delete', 'pod', name, '--wait=false']);
      }
    });

    test('control planes carry kubeadm\'s role label and NoSchedule taint; workers their pool label and the spec\'s labels and taints', async () => {
      const nodes = await getItems<KubeNode>(cluster, ['nodes']);
      const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
      for (const cp of cluster.plan.controlPlanes) {
        const n = byName.get(cp.hostname)!;
        expect(n.metadata.labels).toHaveProperty(['node-role.kubernetes.io/control-plane']);
        expect(n.spec.taints).toContainEqual({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' });
      }
      for (const w of cluster.plan.workers) {
        const n = byName.get(w.hostname)!;
        const want = expectedWorkerMetadata(w);
        expect(n.metadata.labels).toMatchObject(want.labels);
        expect(n.spec.taints ?? []).toEqual(want.taints);
      }
    });

    test('the workloads of dist/ converge: web 5/5, the Service selects exactly the backend pods, pool-pinned stays on its pool, HTTP answers with a pod name', async () => {
      const dist = synthManifests(cluster, spec);
      await applyWorkloads(cluster, dist);
      // Rolled out means 5 were available at one moment; a probe that times out on this loaded machine can take one
      // out of Ready for a while after. Converged is 5 Ready again, waited for (bounded), and any restart is shown.
      const web = await cluster.waitFor('deployment/web has 5 Ready pods', 2 * MINUTE, async () => {
        const d = JSON.parse(await cluster.mustKubectl(['get', 'deployment', 'web', '-o', 'json'])) as { spec: { replicas: number }; status: { readyReplicas?: number } };
        return d.status.readyReplicas === d.spec.replicas ? d : undefined;
      });
      process.stdout.write(`web's pods:\n${await cluster.mustKubectl(['get', 'pods', '-l', 'app=web', '-o', 'wide'])}`);
      expect({ desired: web.spec.replicas, ready: web.status.readyReplicas }).toEqual({ desired: 5, ready: 5 });

      const svc = JSON.parse(await cluster.mustKubectl(['get', 'service', 'web', '-o', 'json'])) as { spec: { selector: Record<string, string>; clusterIP: string; ports: { port: number }[] } };
      const selector = Object.entries(svc.spec.selector).map(([k, v]) => `${k}=${v}`).join(',');
      const selected = (await getItems<KubePod>(cluster, ['pods', '-l', selector])).filter((p) => isReady(p) && !p.metadata.deletionTimestamp);
      const endpoints = await cluster.waitFor('the Service web lists every selected pod', 2 * MINUTE, async () => {
        const slices = await getItems<{ endpoints?: { addresses: string[]; targetRef?: { name: string } }[] }>(cluster, ['endpointslices', '-l', 'kubernetes.io/service-name=web']);
        const names = slices.flatMap((s) => (s.endpoints ?? []).map((e) => e.targetRef?.name ?? '')).sort();
        return names.length === selected.length ? names : undefined;
      });
      expect(endpoints).toEqual(selected.map((p) => p.metadata.name).sort());
      const preview = await getItems<KubePod>(cluster, ['pods', '-l', 'tier=preview']);
      expect(preview.length).toBeGreaterThan(0);
      expect(endpoints.filter((n) => preview.some((p) => p.metadata.name === n))).toEqual([]);

      await cluster.mustKubectl(['rollout', 'status', 'deployment/pool-pinned', '--timeout=180s'], { timeoutMs: 4 * MINUTE });
      const pinned = await getItems<KubePod>(cluster, ['pods', '-l', 'app=pool-pinned']);
      const general = cluster.plan.workers.filter((w) => w.pool === 'general').map((w) => w.hostname);
      expect(pinned.length).toBeGreaterThan(0);
      expect([...new Set(pinned.map((p) => p.spec.nodeName))].every((n) => general.includes(n!))).toBe(true);

      // From inside the cluster: a node asks the Service's cluster IP (kube-proxy's rules on that node).
      const worker = cluster.plan.workers[0];
      const answer = await cluster.exec(worker, ['curl', '-fsS', '--max-time', '5', `http://${svc.spec.clusterIP}:${svc.spec.ports[0].port}/`]);
      expect(answer.status).toBe(0);
      expect(selected.map((p) => p.metadata.name)).toContain(answer.stdout.trim());
    });

    test('npm run status, from the host side of the network with the host-made kubeconfig, reports every node Ready and exits 0', async () => {
      const specFile = cluster.file('status-spec.yaml');
      fs.writeFileSync(specFile, YAML.stringify(spec), { mode: 0o600 });
      const run = await cluster.lab.inNetns('node', ['--require', REGISTER_TS, path.join(ROOT, 'scripts', 'status.ts'), '--no-libvirt', '--kubeconfig', hostKubeconfig(cluster), '--wait', '120', '--interval', '5'], {
        timeoutMs: 3 * MINUTE,
        env: { CLUSTER_CONFIG: specFile, PATH: TOOL_PATH },
        cwd: ROOT,
      });
      if (run.status !== 0) throw new Error(`npm run status exited ${run.status}:\n${run.stdout}${run.stderr}`);
      // Exit 0 is its verdict; each Kubernetes node's own line says Ready too.
      const lines = run.stdout.split('\n');
      const notReady = cluster.plan.nodes
        .filter((x) => x.role === NodeRole.CONTROL_PLANE || x.role === NodeRole.WORKER)
        .filter((n) => !lines.some((l) => l.trim().split(/\s+/)[0] === n.hostname && /\bReady\b/.test(l) && !/NotReady/.test(l)))
        .map((n) => n.hostname);
      expect(notReady).toEqual([]);
    });

    test('npm run demo:self-healing exits 0; the tier sees two of web\'s pods replaced and web back at 5 Ready pods', async () => {
      // web's own pods: its Deployment's selector (app=web alone also picks the preview's).
      const deployment = JSON.parse(await cluster.mustKubectl(['get', 'deployment', 'web', '-o', 'json'])) as { spec: { selector: { matchLabels: Record<string, string> } } };
      const selector = Object.entries(deployment.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
      const webPods = async () => (await getItems<KubePod>(cluster, ['pods', '-l', selector])).filter((p) => !p.metadata.deletionTimestamp);
      const before = (await webPods()).map((p) => p.metadata.name);
      const kubeconfig = hostKubeconfig(cluster);
      const run = await cluster.lab.inNetns('bash', [path.join(ROOT, 'scripts', 'demo-self-healing.sh')], { timeoutMs: 6 * MINUTE, env: { KUBECONFIG: kubeconfig, DIST_DIR: synthManifests(cluster, spec), PATH: TOOL_PATH } });
      if (run.status !== 0) throw new Error(`demo:self-healing exited ${run.status}:\n${run.stdout}${run.stderr}`);
      const after = await cluster.waitFor('web has 5 Ready pods', 3 * MINUTE, async () => {
        const pods = await webPods();
        return pods.length === 5 && pods.every(isReady) ? pods.map((p) => p.metadata.name) : undefined;
      });
      expect({ before: before.length, gone: before.filter((n) => !after.includes(n)).length }).toEqual({ before: 5, gone: 2 });
    });

    test('losing a control plane: HAProxy marks it DOWN, kubectl through api keeps working, etcd keeps quorum, a new Deployment schedules; it comes back', async () => {
      const report = await loseAControlPlane(cluster, { agnhostImage: agnhostImage() });
      process.stdout.write(`${report.summary}\n`);
      expect(report.detectedDownAfterSeconds).toBeLessThanOrEqual(report.detectionBoundSeconds);
      expect(report.requestsAfterDetection).toBeGreaterThan(0);
      expect(report.requestsCoveredTheLoss).toBe(true);
      expect(report.failedAfterDetection).toBe(0);
      expect(report.kubectlThroughApiDuringLoss).toBe(true);
      // Stacked etcd loses the stopped control plane's member and keeps quorum with the other two.
      expect(report.etcdHealthyMembersDuringLoss).toBe(cluster.plan.etcdNodes.length > 0 ? report.etcdMembers : report.etcdMembers - 1);
      expect(report.newDeploymentReady).toBe(true);
      // It came back: loseAControlPlane waits (bounded) for the node Ready, every etcd member healthy and HAProxy
      // marking it UP, and throws when one does not come.
    });

    test('bootstrap/README\'s recovery on the first control plane uploads the certificates again with the configured key and creates the configured token again; a control plane decrypts them with the key in its own kubeadm.yaml', async () => {
      const [first, second] = cluster.plan.controlPlanes;
      const { bootstrapToken, certificateKey } = cluster.secrets;
      const config = '/etc/k8s-lab/kubeadm.yaml';
      const mustExec = (node: typeof first, args: string[]) => cluster.mustExec(node, args, { timeoutMs: 2 * MINUTE });
      // GIVEN the token and the uploaded certificates are gone, as they are 24 h after init (kubeadm deletes the
      // kubeadm-certs Secret after 2 h)
      await mustExec(first, ['kubeadm', 'token', 'delete', bootstrapToken.split('.')[0]]);
      const certsSecret = ['-n', 'kube-system', 'secret', 'kubeadm-certs'];
      await cluster.mustKubectl(['delete', ...certsSecret]);
      expect((await cluster.kubectl(['get', ...certsSecret])).stderr).toMatch(/NotFound/);
      // WHEN the README's two commands run
      const uploaded = await mustExec(first, ['kubeadm', 'init', 'phase', 'upload-certs', '--upload-certs', '--skip-certificate-key-print', '--config', config]);
      const created = await mustExec(first, ['kubeadm', 'token', 'create', '--config', config]);
      // THEN the key was not printed, the token is the configured one again, and another control plane downloads and
      // decrypts the certificates with its own configuration (its bootstrap token for discovery, its certificate key)
      expect(`${uploaded.stdout}${uploaded.stderr}`).not.toContain(certificateKey);
      expect(created.stdout.trim()).toBe(bootstrapToken);
      await mustExec(second, ['kubeadm', 'join', 'phase', 'control-plane-prepare', 'download-certs', '--config', config]);
    });

    if (options.demos) describeDemoChecks(() => cluster, spec);

    extra(() => cluster);
  });






}
