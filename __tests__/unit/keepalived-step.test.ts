import { bootstrapStepsOf, renderNodeFiles } from '../../bootstrap';
import { KEEPALIVED_CHECK_SCRIPT_PATH, KEEPALIVED_CONFIG_PATH, KEEPALIVED_INTERFACE_FILE, renderKeepalivedConfig } from '../../bootstrap/keepalived-config';
import { KEEPALIVED_INTERFACE_SCRIPT_PATH, STAGED_KEEPALIVED_CONFIG_PATH, keepalivedStep } from '../../bootstrap/keepalived-step';
import { ClusterSpecInput } from '../../spec';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { fileAt, nodeOf, planOf, userDataOf, userDataText } from '../fixtures/bootstrap-helpers';

const TWO_LBS: ClusterSpecInput = { loadBalancer: { count: 2, virtualIp: '192.168.150.2' } };
const plan = planOf(TWO_LBS);
const lb1 = nodeOf(plan, 'lb-1');
const lb2 = nodeOf(plan, 'lb-2');
const scriptLines = (text: string) => text.split('\n');

describe('load balancer steps', () => {
  test('with two load balancers each runs load-balancer, then keepalived', () => {
    for (const lb of [lb1, lb2]) expect(bootstrapStepsOf(plan, lb, FAKE_SECRETS).map((s) => s.name)).toEqual(['load-balancer', 'keepalived']);
  });

  test('with one load balancer nothing of keepalived is rendered', () => {
    // GIVEN the default cluster (loadBalancer.count 1)
    const one = planOf();
    const lb = nodeOf(one, 'lb-1');
    // WHEN its files are rendered
    const files = renderNodeFiles(one, lb, FAKE_SECRETS);
    // THEN no step, file or package of keepalived
    expect(bootstrapStepsOf(one, lb, FAKE_SECRETS).map((s) => s.name)).toEqual(['load-balancer']);
    expect(Object.keys(files).sort()).toEqual(['haproxy.cfg', 'meta-data', 'user-data']);
    expect(files['user-data']).not.toMatch(/keepalived|vrrp/i);
  });

  test('nodes other than load balancers get nothing of keepalived', () => {
    for (const node of plan.nodes.filter((n) => !n.hostname.includes('-lb-'))) expect(userDataText(plan, node)).not.toMatch(/keepalived|vrrp/i);
  });

  test('renderNodeFiles gives keepalived.conf for reading, the same text the step stages', () => {
    for (const lb of [lb1, lb2]) {
      const files = renderNodeFiles(plan, lb, FAKE_SECRETS);
      expect(Object.keys(files).sort()).toEqual(['haproxy.cfg', 'keepalived.conf', 'meta-data', 'user-data']);
      expect(files['keepalived.conf']).toBe(renderKeepalivedConfig(plan, lb));
      expect(fileAt(userDataOf(plan, lb), STAGED_KEEPALIVED_CONFIG_PATH).content).toBe(files['keepalived.conf']);
    }
  });
});

describe('keepalivedStep', () => {
  const step = keepalivedStep(plan, lb1);
  const body = scriptLines(step.script);

  test('writes the staged config, the check script and the interface script, scripts executable', () => {
    expect(step.files.map((f) => [f.path, f.permissions])).toEqual([
      [STAGED_KEEPALIVED_CONFIG_PATH, '0644'],
      [KEEPALIVED_CHECK_SCRIPT_PATH, '0755'],
      [KEEPALIVED_INTERFACE_SCRIPT_PATH, '0755'],
    ]);
  });

  test('renders, in this order: the keepalived install, the interface include, keepalived -t, the config install, the restart', () => {
    const at = (line: string) => {
      const i = body.findIndex((l) => l.trim() === line);
      if (i < 0) throw new Error(`no line ${JSON.stringify(line)} in:\n${step.script}`);
      return i;
    };
    const install = at('apt-get install -y -q -o Dpkg::Options::=--force-confold keepalived');
    const iface = at(`${KEEPALIVED_INTERFACE_SCRIPT_PATH} "\${interface_file}"`);
    const check = at('keepalived -t -f "${staged}"');
    const copy = at('install -m 0644 "${staged}" "${live}"');
    const restart = at('systemctl restart keepalived');
    expect([install, iface, check, copy, restart]).toEqual([...[install, iface, check, copy, restart]].sort((a, b) => a - b));
    expect(body).toContain(`readonly live=${KEEPALIVED_CONFIG_PATH}`);
    expect(body).toContain(`readonly interface_file=${KEEPALIVED_INTERFACE_FILE}`);
  });

  test('renders a restart guarded by config and interface comparisons and keepalived\'s state, then a check that it runs', () => {
    expect(body).toContain('if ! cmp -s "${staged}" "${live}"; then');
    expect(body).toContain('[[ "$(cat "${interface_file}")" == "${interface_before}" ]] || restart=true');
    expect(body).toContain('systemctl is-active --quiet keepalived || restart=true');
    expect(body[body.length - 3]).toBe('systemctl is-active --quiet keepalived');
  });

  test('is strict bash', () => {
    expect(step.script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(body).toContain('set -euo pipefail');
  });

  test('the check script asks /healthz through the local HAProxy, bounded by the check timeout', () => {
    const check = step.files.find((f) => f.path === KEEPALIVED_CHECK_SCRIPT_PATH)!.content;
    expect(scriptLines(check)).toContain('exec curl -sfk --max-time 2 -o /dev/null https://127.0.0.1:6443/healthz');
  });

  test('the interface script looks up the node\'s own address, bounded, and writes the keepalived parameter', () => {
    const [one, two] = [lb1, lb2].map((n) => keepalivedStep(plan, n).files.find((f) => f.path === KEEPALIVED_INTERFACE_SCRIPT_PATH)!.content);
    expect(scriptLines(one)).toContain('readonly node_ip=192.168.150.5');
    expect(scriptLines(two)).toContain('readonly node_ip=192.168.150.6');
    expect(one).toContain('ip -o -4 addr show to "${node_ip}/32"');
    expect(scriptLines(one)).toContain('readonly wait_timeout=120');
    expect(scriptLines(one)).toContain(`readonly out="\${1:-${KEEPALIVED_INTERFACE_FILE}}"`);
    expect(scriptLines(one)).toContain('\\$K8S_LAB_INTERFACE=${name}"');
  });

  test('fails for a plan with one load balancer', () => {
    const one = planOf();
    expect(() => keepalivedStep(one, nodeOf(one, 'lb-1'))).toThrow(/loadBalancer.count must be 2 for keepalived/);
  });
});

describe('golden user-data', () => {
  test('lb-1 of a two-load-balancer cluster (FAKE_SECRETS)', () => {
    expect(userDataText(plan, lb1)).toMatchSnapshot();
  });
});
