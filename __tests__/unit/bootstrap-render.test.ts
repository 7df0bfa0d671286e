import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClusterSpecError } from '../../spec';
import { renderCluster } from '../../scripts/render';
import fakeJson from '../fixtures/fake-secrets.json';

// scripts/render.ts (`npm run render`) against a temporary root with pre-made fake secrets, so no
// CA is generated here.

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-render-'));
  fs.mkdirSync(path.join(root, '.secrets', 'k8s-lab'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(root, '.secrets', 'k8s-lab', 'secrets.json'), JSON.stringify(fakeJson), { mode: 0o600 });
  jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
  jest.restoreAllMocks();
});

const listTree = (dir: string): string[] =>
  fs.readdirSync(dir).flatMap((d) => fs.readdirSync(path.join(dir, d)).map((f) => `${d}/${f}`)).sort();

describe('renderCluster', () => {
  test('writes user-data, meta-data and haproxy.cfg or kubeadm.yaml per node', () => {
    // WHEN
    renderCluster({}, root);
    // THEN
    const tree = listTree(path.join(root, 'rendered'));
    expect(tree).toEqual(
      expect.arrayContaining(['k8s-lab-lb-1/haproxy.cfg', 'k8s-lab-lb-1/user-data', 'k8s-lab-lb-1/meta-data', 'k8s-lab-cp-1/kubeadm.yaml', 'k8s-lab-worker-general-2/user-data']),
    );
    expect(tree).toHaveLength(6 * 3);
    expect(fs.readFileSync(path.join(root, 'rendered', 'k8s-lab-cp-2', 'user-data'), 'utf8')).toMatch(/^#cloud-config\n/);
    expect(fs.statSync(path.join(root, 'rendered', 'k8s-lab-cp-1', 'kubeadm.yaml')).mode & 0o777).toBe(0o600);
  });

  test('replaces an earlier tree entirely and leaves no temporary directory', () => {
    fs.mkdirSync(path.join(root, 'rendered', 'stale-node'), { recursive: true });
    renderCluster({}, root);
    expect(fs.existsSync(path.join(root, 'rendered', 'stale-node'))).toBe(false);
    expect(fs.readdirSync(root).filter((f) => f.startsWith('rendered'))).toEqual(['rendered']);
  });

  test('renders the same bytes twice', () => {
    renderCluster({}, root);
    const first = fs.readFileSync(path.join(root, 'rendered', 'k8s-lab-cp-1', 'user-data'));
    renderCluster({}, root);
    expect(fs.readFileSync(path.join(root, 'rendered', 'k8s-lab-cp-1', 'user-data'))).toEqual(first);
  });

  test('fails when the spec is invalid, and writes nothing', () => {
    // GIVEN an earlier tree and a bad spec
    renderCluster({}, root);
    const before = listTree(path.join(root, 'rendered'));
    fs.writeFileSync(path.join(root, 'bad.yaml'), 'controlPlane:\n  count: 0\n');
    // WHEN / THEN
    expect(() => renderCluster({ CLUSTER_CONFIG: 'bad.yaml' }, root)).toThrow(ClusterSpecError);
    expect(() => renderCluster({ CLUSTER_CONFIG: 'bad.yaml' }, root)).toThrow(/controlPlane\.count: must be at least 1/);
    expect(listTree(path.join(root, 'rendered'))).toEqual(before);
    expect(fs.readdirSync(root).filter((f) => f.startsWith('rendered'))).toEqual(['rendered']);
  });
});
