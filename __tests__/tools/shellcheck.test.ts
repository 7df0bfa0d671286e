import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderNodeFiles } from '../../bootstrap';
import { ClusterPlan, Cni, EtcdTopology, NodePlan } from '../../spec';
import { FAKE_SECRETS_WITH_ETCD } from '../fixtures/fake-secrets';
import { LABELLED_SPEC, PREBAKED_CONTAINER_NODE_SPEC, planOf, shellScriptsOf, userDataText } from '../fixtures/bootstrap-helpers';
import { ROOT, requireTool, runTool } from '../support/tools';

// shellcheck (Debian's 0.9, installed by `npm run tools`) on every piece of shell that runs on a
// VM: the write_files entries with a shebang, and the runcmd lines as the /bin/sh script
// cloud-init makes of them.

let tmp: string;
beforeAll(() => {
  requireTool('shellcheck');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shellcheck-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function shellcheck(text: string, name: string): { status: number | null; output: string } {
  const file = path.join(tmp, name.replace(/[^a-z0-9.-]+/gi, '_'));
  fs.writeFileSync(file, text);
  return runTool('shellcheck', ['--severity=style', '--format=gcc', file]);
}

const plans: [string, ClusterPlan][] = [
  ['default', planOf()],
  ['labelled-flannel', planOf({ ...LABELLED_SPEC, kubernetes: { cni: Cni.FLANNEL } })],
  ['prebaked', planOf(PREBAKED_CONTAINER_NODE_SPEC)],
  ['prebaked-external-etcd-two-lbs', planOf({ ...PREBAKED_CONTAINER_NODE_SPEC, etcd: { topology: EtcdTopology.EXTERNAL }, loadBalancer: { count: 2, virtualIp: '192.168.150.2' } })],
  ['online-external-etcd-two-lbs', planOf({ etcd: { topology: EtcdTopology.EXTERNAL }, loadBalancer: { count: 2, virtualIp: '192.168.150.2' } })],
  // 1.37 adds prepare-node's containerd version check.
  ['kubernetes-1.37', planOf({ kubernetes: { version: '1.37.0' } })],
];
// External etcd members need the fake etcd secrets as well.
const userDataOfNode = (plan: ClusterPlan, node: NodePlan) => (plan.etcdNodes.length > 0 ? renderNodeFiles(plan, node, FAKE_SECRETS_WITH_ETCD)['user-data'] : userDataText(plan, node));
const scripts = plans.flatMap(([specName, plan]) =>
  plan.nodes.flatMap((node) => shellScriptsOf(userDataOfNode(plan, node)).map((s) => [`${specName} ${node.hostname} ${s.name}`, s.text] as const)),
);

test('every node role has shell to check (the extraction finds the scripts)', () => {
  for (const step of ['k8s-lab-bootstrap', 'k8s-lab-prepare-node.sh', 'k8s-lab-init-control-plane.sh', 'k8s-lab-join-node.sh', 'k8s-lab-load-balancer.sh', 'runcmd']) {
    expect(scripts.some(([name]) => name.endsWith(step))).toBe(true);
  }
});

describe('shellcheck finds nothing in the shell that runs on the VMs', () => {
  test.each(scripts)('%s', (name, text) => {
    const result = shellcheck(text, name);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('every bootstrap script is strict', () => {
  test.each(scripts.filter(([name]) => !name.endsWith('runcmd')))('%s starts with #!/bin/bash and set -euo pipefail', (_name, text) => {
    expect(text.startsWith('#!/bin/bash\n')).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
  });
});

test('the check can fail: shellcheck flags an unquoted variable and a useless cd', () => {
  // GIVEN a script with obvious mistakes
  const bad = ['#!/bin/bash', 'set -euo pipefail', 'dir=$1', 'cd $dir', 'rm -rf $dir/*', ''].join('\n');
  // WHEN
  const result = shellcheck(bad, 'bad.sh');
  // THEN
  expect(result.status).not.toBe(0);
  expect(result.output).toMatch(/SC2086/);
});

// The host side too: every shell script npm or CI runs on this machine (synth, tools, tiers, demos, image, the
// deploy tier's test image, .ci/run), found by name (*.sh) or by a shell shebang, each checked with the files it
// sources (-x, paths from its own folder). The check above shows shellcheck can fail.
const isShellScript = (file: string): boolean =>
  file.endsWith('.sh') || /^#!\s*\/(usr\/)?bin\/(env\s+)?(ba)?sh\b/.test(fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n', 1)[0]);
const HOST_SCRIPTS = [
  ...fs
    .readdirSync(path.join(ROOT, 'scripts'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name))),
  path.join('.ci', 'run'),
]
  .filter(isShellScript)
  .sort();

describe('shellcheck finds nothing in the host scripts', () => {
  test('there are host scripts to check, shebang-only ones and .ci/run included', () => {
    expect(HOST_SCRIPTS).toEqual(
      expect.arrayContaining(['scripts/synth.sh', 'scripts/test-all.sh', 'scripts/tools.sh', 'scripts/tools/debian-packages.sh', 'scripts/test-image/init', 'scripts/test-image/udhcpc.script', '.ci/run']),
    );
  });
  test.each(HOST_SCRIPTS)('%s', (script) => {
    const result = runTool('shellcheck', ['-x', '-P', 'SCRIPTDIR', '--severity=style', '--format=gcc', path.join(ROOT, script)]);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });
});
