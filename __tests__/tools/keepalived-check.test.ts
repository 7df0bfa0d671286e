import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { KEEPALIVED_CHECK_SCRIPT_PATH, KEEPALIVED_INTERFACE_PARAMETER, renderKeepalivedConfig } from '../../bootstrap/keepalived-config';
import { KEEPALIVED_INTERFACE_SCRIPT_PATH, keepalivedStep } from '../../bootstrap/keepalived-step';
import { renderKeepalivedInterfaceScript } from '../../bootstrap/private/keepalived-scripts';
import { ClusterSpecInput, NodePlan } from '../../spec';
import { nodeOf, planOf, shellScriptsOf, userDataText } from '../fixtures/bootstrap-helpers';
import { NetnsLab } from '../live/support/netns-lab';
import { requireTool } from '../support/tools';

// The real keepalived (Debian's 2.2.7, installed by `npm run tools`) checks both load balancers'
// rendered keepalived.conf with `keepalived -t -f FILE`. keepalived -t also checks that the
// interfaces it names exist, so it runs inside a network namespace this file makes: one veth pair,
// both ends inside it, `enp1s0` holding the two load balancers' addresses (the default node
// network, 192.168.150.5 and .6, which exist only inside that isolated namespace). The include
// that names the interface is written by the rendered boot-time script itself, run in the namespace.
// Then cloud-init schema and shellcheck on the two-load-balancer user-data.

const TWO_LBS: ClusterSpecInput = { loadBalancer: { count: 2, virtualIp: '192.168.150.2' } };
const plan = planOf(TWO_LBS);
const lbs = [nodeOf(plan, 'lb-1'), nodeOf(plan, 'lb-2')];
const IFACE = 'enp1s0';

const lab = new NetnsLab('k8slab-kat');
let ns: string;
let tmp: string;

beforeAll(() => {
  requireTool('keepalived');
  requireTool('ip');
  NetnsLab.assertAvailable();
  ns = lab.addNamespace('lbs');
  lab.ip(ns, ['link', 'add', IFACE, 'type', 'veth', 'peer', 'name', 'peer0']);
  for (const l of [IFACE, 'peer0']) lab.ip(ns, ['link', 'set', l, 'up']);
  for (const lb of lbs) lab.ip(ns, ['addr', 'add', `${lb.ip}/${plan.network.prefixLength}`, 'dev', IFACE]);
  // keepalived's script security wants every directory on the script's path unwritable by others
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keepalived-check-'));
  fs.chmodSync(tmp, 0o755);
});
afterAll(async () => {
  await lab.destroy();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The step's file at `vmPath` for `node`, written into the temp dir as `name` (mode from the step). */
function writeStepFile(node: NodePlan, vmPath: string, name: string): string {
  const file = keepalivedStep(plan, node).files.find((f) => f.path === vmPath);
  if (!file) throw new Error(`the keepalived step has no file ${vmPath}`);
  const out = path.join(tmp, name);
  fs.writeFileSync(out, file.content, { mode: parseInt(file.permissions!, 8) });
  fs.chmodSync(out, parseInt(file.permissions!, 8));
  return out;
}

/** Writes everything a load balancer's keepalived.conf needs into the temp dir; returns the paths. */
function prepare(node: NodePlan, tag: string): { config: string; interfaceFile: string; checkScript: string; interfaceScript: string } {
  const interfaceScript = writeStepFile(node, KEEPALIVED_INTERFACE_SCRIPT_PATH, `${tag}-interface.sh`);
  const checkScript = writeStepFile(node, KEEPALIVED_CHECK_SCRIPT_PATH, `${tag}-check.sh`);
  const interfaceFile = path.join(tmp, `${tag}-interface.conf`);
  const config = path.join(tmp, `${tag}-keepalived.conf`);
  fs.writeFileSync(config, renderKeepalivedConfig(plan, node, { interfaceFile, checkScript }));
  return { config, interfaceFile, checkScript, interfaceScript };
}

const keepalivedTest = (config: string) => lab.run(ns, 'keepalived', ['-t', '-f', config]);

describe('keepalived -t accepts both rendered configs, with the include the boot-time script writes', () => {
  test.each(lbs.map((n) => [n.hostname, n] as const))('%s', (_name, node) => {
    // GIVEN the node's rendered files, and the interface include written by its own boot-time script
    const files = prepare(node, node.hostname);
    const lookup = lab.run(ns, 'bash', [files.interfaceScript, files.interfaceFile]);
    expect(lookup.output).toContain(`keepalived interface: ${IFACE} (written to ${files.interfaceFile})`);
    expect(lookup.status).toBe(0);
    expect(fs.readFileSync(files.interfaceFile, 'utf8').split('\n')).toContain(`$${KEEPALIVED_INTERFACE_PARAMETER}=${IFACE}`);
    // ... a second run changes nothing (idempotent)
    expect(lab.run(ns, 'bash', [files.interfaceScript, files.interfaceFile]).output).toContain(`${IFACE} (${files.interfaceFile} unchanged)`);
    // WHEN the real keepalived checks the config
    const result = keepalivedTest(files.config);
    // THEN it is valid and keepalived has nothing to say
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('the check can fail', () => {
  /** lb-1's files, valid, with the include written; each case breaks one thing. */
  function validLb1(tag: string) {
    const files = prepare(lbs[0], tag);
    expect(lab.run(ns, 'bash', [files.interfaceScript, files.interfaceFile]).status).toBe(0);
    expect(keepalivedTest(files.config).status).toBe(0);
    return files;
  }

  test('keepalived -t rejects the config when the interface include is missing (includer)', () => {
    const files = validLb1('no-include');
    fs.rmSync(files.interfaceFile);
    const result = keepalivedTest(files.config);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/Config files missing/);
  });

  test('keepalived -t rejects an interface the node does not have', () => {
    const files = validLb1('no-such-interface');
    fs.writeFileSync(files.interfaceFile, `$${KEEPALIVED_INTERFACE_PARAMETER}=enp9s9\n`);
    const result = keepalivedTest(files.config);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/interface enp9s9 for vrrp_instance .* doesn't exist/);
  });

  test('keepalived -t rejects a virtual_router_id out of range', () => {
    const files = validLb1('vrid-256');
    fs.writeFileSync(files.config, fs.readFileSync(files.config, 'utf8').replace(/virtual_router_id \d+/, 'virtual_router_id 256'));
    const result = keepalivedTest(files.config);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/VRID '256' not valid/);
  });

  test('keepalived -t rejects a check script others may write (enable_script_security)', () => {
    const files = validLb1('writable-script');
    fs.chmodSync(files.checkScript, 0o777);
    const result = keepalivedTest(files.config);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/Disabling track script k8s_lab_apiserver due to insecure/);
  });

  test('the interface script fails, bounded, when no interface holds the address', () => {
    const stranger: NodePlan = { ...lbs[0], ip: '192.168.150.99' };
    const script = path.join(tmp, 'stranger-interface.sh');
    fs.writeFileSync(script, renderKeepalivedInterfaceScript(stranger, KEEPALIVED_INTERFACE_PARAMETER, path.join(tmp, 'unused.conf'), 1), { mode: 0o755 });
    const result = lab.run(ns, 'bash', [script, path.join(tmp, 'stranger.conf')]);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/no interface holds 192\.168\.150\.99 after 1 s/);
    expect(fs.existsSync(path.join(tmp, 'stranger.conf'))).toBe(false);
  });
});

describe('the two-load-balancer user-data passes cloud-init schema and shellcheck', () => {
  beforeAll(() => {
    requireTool('cloud-init');
    requireTool('shellcheck');
  });

  test.each(lbs.map((n) => [n.hostname, n] as const))('cloud-init schema: %s', (name, node) => {
    const file = path.join(tmp, `${name}-user-data.yaml`);
    fs.writeFileSync(file, userDataText(plan, node), { mode: 0o600 });
    const run = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8', timeout: 120_000 });
    expect(`${run.stdout}${run.stderr}`).toMatch(/Valid cloud-config/);
    expect(run.status).toBe(0);
  });

  test('its top-level keys are those of the one-load-balancer user-data (which the schema key check covers)', () => {
    const one = planOf();
    const keys = (text: string) => Object.keys(YAML.parse(text) as object).sort();
    for (const node of lbs) expect(keys(userDataText(plan, node))).toEqual(keys(userDataText(one, nodeOf(one, 'lb-1'))));
  });

  const scripts = lbs.flatMap((node) => shellScriptsOf(userDataText(plan, node)).map((s) => [`${node.hostname} ${s.name}`, s.text] as const));

  test('the keepalived scripts are among those checked', () => {
    for (const p of ['/usr/local/sbin/k8s-lab-keepalived.sh', KEEPALIVED_CHECK_SCRIPT_PATH, KEEPALIVED_INTERFACE_SCRIPT_PATH]) {
      expect(scripts.filter(([name]) => name.endsWith(p))).toHaveLength(2);
    }
  });

  test.each(scripts)('shellcheck: %s', (name, text) => {
    const file = path.join(tmp, name.replace(/[^a-z0-9.-]+/gi, '_'));
    fs.writeFileSync(file, text);
    const run = spawnSync('shellcheck', ['--severity=style', '--format=gcc', file], { encoding: 'utf8', timeout: 120_000 });
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  });
});
