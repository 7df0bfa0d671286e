import { APT_CONFIG_PATH, APT_UPDATE_ATTEMPTS, APT_UPDATE_PATH, APT_UPDATE_RETRY_SECONDS } from '../../bootstrap';
import { EtcdTopology } from '../../spec';
import { planOf, userDataOf, userDataText } from '../fixtures/bootstrap-helpers';
import { FakeNode, FakeNodeInput, stepNodeInput } from '../support/fake-node';

// How a node that installs from the network uses apt at first boot, when the cloud image's own apt jobs may hold
// its locks: a drop-in makes apt-get wait for dpkg's lock and retry downloads, and every step updates the lists
// through one script that tries again. The script is run for real by bash on a fake node
// (__tests__/support/fake-node.ts: apt-get and sleep are stubs that record their calls); the tools tier has the
// real apt read the drop-in.

const online = planOf({ etcd: { topology: EtcdTopology.EXTERNAL, count: 3 }, loadBalancer: { count: 2, virtualIp: '192.168.150.2' } });
const UPDATE = 'apt-get update -q --error-on=any';

const nodes: FakeNode[] = [];
/** Runs the update script once on a new fake node. */
function updateScript(overrides: Partial<FakeNodeInput> = {}) {
  const node = new FakeNode({ ...stepNodeInput(userDataText(online, online.workers[0]), APT_UPDATE_PATH), ...overrides });
  nodes.push(node);
  return node.run();
}
afterAll(() => nodes.forEach((n) => n.remove()));

describe('the apt update script, run against a fake node', () => {
  test('an update that works is run once', () => {
    const run = updateScript();
    expect({ status: run.status, calls: run.calls }).toEqual({ status: 0, calls: [UPDATE] });
  });

  test('an update that fails twice (a lock held, a source unreadable) is run again 30 s later, until it works', () => {
    const run = updateScript({ failingCalls: { 'apt-get update': 2 } });
    const wait = `sleep ${APT_UPDATE_RETRY_SECONDS}`;
    expect({ status: run.status, calls: run.calls }).toEqual({ status: 0, calls: [UPDATE, wait, UPDATE, wait, UPDATE] });
    expect(run.stderr).toContain(`apt-get update failed (attempt 1 of ${APT_UPDATE_ATTEMPTS}: a lock held, or a source unreadable); again in 30 s`);
  });

  test(`an update that always fails is tried ${APT_UPDATE_ATTEMPTS} times, then the script exits 1 saying so`, () => {
    const run = updateScript({ failingCalls: { 'apt-get update': 'always' } });
    expect(run.status).toBe(1);
    expect(run.calls.filter((c) => c === UPDATE)).toHaveLength(APT_UPDATE_ATTEMPTS);
    expect(run.calls.filter((c) => c.startsWith('sleep'))).toHaveLength(APT_UPDATE_ATTEMPTS - 1);
    expect(run.stderr).toContain(`apt-get update failed ${APT_UPDATE_ATTEMPTS} times; giving up`);
  });
});

describe('which nodes get it', () => {
  test('every node of an online cluster gets the drop-in and the script, and no step runs apt-get update itself', () => {
    for (const node of online.nodes) {
      const config = userDataOf(online, node);
      const paths = config.write_files.map((f) => f.path);
      expect({ node: node.hostname, apt: paths.filter((p) => p === APT_CONFIG_PATH || p === APT_UPDATE_PATH) }).toEqual({ node: node.hostname, apt: [APT_CONFIG_PATH, APT_UPDATE_PATH] });
      const updating = config.write_files.filter((f) => f.path !== APT_UPDATE_PATH && /apt-get\s+update/.test(f.content)).map((f) => f.path);
      expect({ node: node.hostname, updating }).toEqual({ node: node.hostname, updating: [] });
    }
  });

  test('a prebaked node installs nothing, and gets neither', () => {
    const prebaked = planOf({ image: { prebaked: true }, kubernetes: { cni: 'flannel' as never } });
    for (const node of prebaked.nodes) {
      const paths = userDataOf(prebaked, node).write_files.map((f) => f.path);
      expect(paths.filter((p) => p.includes('apt'))).toEqual([]);
    }
  });
});
