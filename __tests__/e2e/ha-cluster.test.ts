import * as YAML from 'yaml';
import { renderNodeFiles } from '../../bootstrap';
import { parseClusterSpec, planCluster } from '../../spec';
import { TEST_SSH_KEY } from '../fixtures/bootstrap-helpers';
import { describeClusterChecks } from './support/cluster-checks';
import { writeSeedDir } from './support/node-containers';
import { HA_SPEC } from './support/specs';

// The end-to-end tier (README, "The end-to-end tier"): the default HA topology — 1 HAProxy, 3 control
// planes with stacked etcd, 2 workers — as container nodes of the node image (`npm run image`), each
// running its own rendered user-data through the real cloud-init.

const MINUTE = 60_000;

describeClusterChecks("an HA cluster forms from the nodes' own user-data: 1 HAProxy, 3 control planes (stacked etcd), 2 workers", HA_SPEC, 'ha', (get) => {
  // Last, as it takes the API down for a while: what a deploy does to a load balancer whose user-data changed (its
  // domain replaced over its old root disk; README "Changing a running cluster"), done to its container.
  test('a load balancer whose user-data changed (one SSH key more) boots as a new instance over its old disk: cloud-init runs its bootstrap again, the key is installed, and kubectl through api works again', async () => {
    const cluster = get();
    const lb = cluster.plan.loadBalancers[0];
    const read = async (args: string[]) => (await cluster.mustExec(lb, args)).stdout;
    const completions = (log: string) => log.split('\n').filter((l) => l.includes('[k8s-lab] bootstrap complete')).length;
    // GIVEN the load balancer's files rendered for the same spec with an SSH key added
    const changed = planCluster(parseClusterSpec({ ...HA_SPEC, ssh: { authorizedKeys: [TEST_SSH_KEY] } }).spec);
    const files = renderNodeFiles(changed, changed.loadBalancers[0], cluster.secrets);
    const newId = (YAML.parse(files['meta-data']) as { 'instance-id': string })['instance-id'];
    const oldId = (await read(['cat', '/var/lib/cloud/data/instance-id'])).trim();
    expect(newId).not.toBe(oldId);
    const before = completions(await read(['cat', '/var/log/cloud-init-output.log']));
    expect(before).toBe(1);
    // WHEN its seed is the new one and it restarts on its old root file system
    writeSeedDir(cluster.workDir, lb, files);
    await cluster.lab.mustDocker(['restart', lb.hostname], { timeoutMs: 3 * MINUTE });
    // THEN cloud-init takes it for the new instance and runs the bootstrap again, to the end
    await cluster.waitFor(`cloud-init done on ${lb.hostname} after the restart`, 5 * MINUTE, async () => {
      // 0: done; 2: done, with a recoverable error (the tier's other cloud-init waits take both); 1: failed.
      const r = await cluster.exec(lb, ['cloud-init', 'status', '--wait'], { timeoutMs: 5 * MINUTE });
      if (r.status === 1) throw new Error(`cloud-init failed on ${lb.hostname} after the restart: ${r.stdout}${r.stderr}`);
      return r.status === 0 || r.status === 2 ? true : undefined;
    });
    expect((await read(['cat', '/var/lib/cloud/data/instance-id'])).trim()).toBe(newId);
    expect(completions(await read(['cat', '/var/log/cloud-init-output.log']))).toBe(2);
    // AND the change reached it: the key is the ubuntu user's
    expect(await read(['cat', '/home/ubuntu/.ssh/authorized_keys'])).toContain(TEST_SSH_KEY);
    // AND HAProxy serves the API again
    await cluster.waitFor('kubectl through api after the load balancer came back', 3 * MINUTE, async () => ((await cluster.kubectl(['get', '--raw', '/readyz'])).status === 0 ? true : undefined));
  });
});
