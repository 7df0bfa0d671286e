import { haproxyConfigForCluster } from '../../bootstrap/haproxy-config';
import {
  DEFAULT_KEEPALIVED_TIMING,
  KEEPALIVED_CHECK_SCRIPT_PATH,
  KEEPALIVED_CHECK_WEIGHT,
  KEEPALIVED_INTERFACE_FILE,
  KEEPALIVED_PRIORITIES,
  keepalivedFailbackBoundMs,
  keepalivedFailoverBoundMs,
  keepalivedMasterDownBoundMs,
  keepalivedVirtualRouterId,
  renderKeepalivedConfig,
} from '../../bootstrap/keepalived-config';
import { ClusterSpecInput } from '../../spec';
import { nodeOf, planOf } from '../fixtures/bootstrap-helpers';

const TWO_LBS: ClusterSpecInput = { loadBalancer: { count: 2, virtualIp: '192.168.150.2' } };
const plan = planOf(TWO_LBS);
const lb1 = nodeOf(plan, 'lb-1');
const lb2 = nodeOf(plan, 'lb-2');
const lines = (text: string) => text.split('\n').map((l) => l.trim());
/** The lines of the block that starts with `header {` (nested blocks included), without the braces. */
function block(text: string, header: string): string[] {
  const all = lines(text);
  const start = all.indexOf(`${header} {`);
  if (start < 0) throw new Error(`no block "${header} {" in:\n${text}`);
  let depth = 0;
  for (let i = start; i < all.length; i++) {
    depth += (all[i].match(/\{/g) ?? []).length - (all[i].match(/\}/g) ?? []).length;
    if (depth === 0) return all.slice(start + 1, i);
  }
  throw new Error(`block "${header}" is not closed`);
}

describe('renderKeepalivedConfig: the VRRP instance', () => {
  test('lb-1 starts MASTER with priority 101, lb-2 BACKUP with 100', () => {
    // GIVEN a plan with two load balancers; WHEN both configs are rendered
    const [one, two] = [lb1, lb2].map((n) => block(renderKeepalivedConfig(plan, n), 'vrrp_instance k8s_lab_api'));
    // THEN
    expect(one).toEqual(expect.arrayContaining(['state MASTER', 'priority 101']));
    expect(two).toEqual(expect.arrayContaining(['state BACKUP', 'priority 100']));
  });

  test('adverts are unicast from the node to the other load balancer, and only the peer is listened to', () => {
    const one = renderKeepalivedConfig(plan, lb1);
    const two = renderKeepalivedConfig(plan, lb2);
    expect(lines(one)).toContain('unicast_src_ip 192.168.150.5');
    expect(block(one, 'unicast_peer')).toEqual(['192.168.150.6']);
    expect(lines(two)).toContain('unicast_src_ip 192.168.150.6');
    expect(block(two, 'unicast_peer')).toEqual(['192.168.150.5']);
    for (const text of [one, two]) expect(lines(text)).toContain('check_unicast_src');
  });

  test('the virtual IP is the API endpoint with the network prefix, on the interface found at boot', () => {
    expect(plan.apiEndpoint.ip).toBe('192.168.150.2');
    for (const n of [lb1, lb2]) expect(block(renderKeepalivedConfig(plan, n), 'virtual_ipaddress')).toEqual(['192.168.150.2/24 dev ${K8S_LAB_INTERFACE}']);
  });

  test('no interface name is rendered: it comes from the include written at boot, which must exist (includer)', () => {
    const text = renderKeepalivedConfig(plan, lb1);
    expect(lines(text)).toContain(`includer ${KEEPALIVED_INTERFACE_FILE}`);
    expect(lines(text).indexOf(`includer ${KEEPALIVED_INTERFACE_FILE}`)).toBeLessThan(lines(text).indexOf('vrrp_instance k8s_lab_api {'));
    expect(lines(text)).toContain('interface ${K8S_LAB_INTERFACE}');
    expect(text).not.toMatch(/\b(enp\d+s\d+|eth\d+|ens\d+)\b/);
  });

  test('the same virtual_router_id and advert_int on both, and preemption left on (no nopreempt)', () => {
    const [one, two] = [lb1, lb2].map((n) => lines(renderKeepalivedConfig(plan, n)));
    for (const l of [one, two]) {
      expect(l).toContain('virtual_router_id 2');
      expect(l).toContain('advert_int 1');
      expect(l.join('\n')).not.toMatch(/nopreempt|preempt_delay/);
    }
  });

  test('no VRRP authentication and no multicast-only or strict settings', () => {
    const text = renderKeepalivedConfig(plan, lb1);
    expect(text).not.toMatch(/authentication|auth_pass|auth_type|vrrp_strict|mcast_/);
  });

  test('tracks the health script, whose failure must drop lb-1 below a healthy lb-2', () => {
    const text = renderKeepalivedConfig(plan, lb1);
    expect(block(text, 'track_script')).toEqual(['k8s_lab_apiserver']);
    const script = block(text, 'vrrp_script k8s_lab_apiserver');
    expect(script).toEqual([`script "${KEEPALIVED_CHECK_SCRIPT_PATH}"`, 'interval 2', 'timeout 3', 'fall 3', 'rise 2', 'weight -2']);
    // a failing lb-1 falls below a healthy lb-2; a failing lb-2 stays below lb-1 either way
    const [p1, p2] = KEEPALIVED_PRIORITIES;
    expect(p1 + KEEPALIVED_CHECK_WEIGHT).toBeLessThan(p2);
    expect(p2 + KEEPALIVED_CHECK_WEIGHT).toBeLessThan(p1 + KEEPALIVED_CHECK_WEIGHT);
  });

  test('scripts run with script security on, as root (keepalived -t of 2.2.7 dies with any other script_user)', () => {
    const global = block(renderKeepalivedConfig(plan, lb2), 'global_defs');
    expect(global).toEqual(['router_id k8s-lab-lb-2', 'enable_script_security', 'script_user root']);
  });

  test('options point the include and the script elsewhere and change the timing', () => {
    const text = renderKeepalivedConfig(plan, lb1, { interfaceFile: '/tmp/x/iface.conf', checkScript: '/tmp/x/check.sh', timing: { advertIntSec: 2, checkIntervalSec: 1, fall: 2 } });
    expect(lines(text)).toEqual(expect.arrayContaining(['includer /tmp/x/iface.conf', 'script "/tmp/x/check.sh"', 'advert_int 2', 'interval 1', 'fall 2', 'rise 2']));
  });

  test('is deterministic and ends with one newline', () => {
    expect(renderKeepalivedConfig(planOf(TWO_LBS), nodeOf(planOf(TWO_LBS), 'lb-1'))).toBe(renderKeepalivedConfig(plan, lb1));
    expect(renderKeepalivedConfig(plan, lb1)).toMatch(/[^\n]\n$/);
  });
});

describe('keepalivedVirtualRouterId', () => {
  test.each([
    ['192.168.150.0/24', '192.168.150.2', 2],
    ['192.168.150.0/24', '192.168.150.4', 4],
    ['10.20.0.0/16', '10.20.0.3', 3],
    ['172.16.5.128/25', '172.16.5.130', 130],
  ])('network %s, virtual IP %s -> %d', (cidr, virtualIp, id) => {
    expect(keepalivedVirtualRouterId(planOf({ network: { cidr }, loadBalancer: { count: 2, virtualIp } }))).toBe(id);
  });

  test('two clusters on one node network (different virtual IPs) get different ids', () => {
    const ids = ['192.168.150.2', '192.168.150.3', '192.168.150.4'].map((virtualIp) => keepalivedVirtualRouterId(planOf({ loadBalancer: { count: 2, virtualIp } })));
    expect(new Set(ids).size).toBe(3);
  });

  test('fails when the plan has no virtual IP', () => {
    expect(() => keepalivedVirtualRouterId(planOf())).toThrow(/loadBalancer.virtualIp must be set for keepalived, got undefined/);
  });
});

describe('failover bounds (the formulas the live test asserts)', () => {
  test('default timing: 3 x 2 s + (2 + 1) s + 4 x 1 s = 13 s to move, 2 x 2 + 3 + 4 = 11 s to come back, 4 s when the master vanishes', () => {
    expect(keepalivedFailoverBoundMs(DEFAULT_KEEPALIVED_TIMING)).toBe(13_000);
    expect(keepalivedFailbackBoundMs(DEFAULT_KEEPALIVED_TIMING)).toBe(11_000);
    expect(keepalivedMasterDownBoundMs(DEFAULT_KEEPALIVED_TIMING)).toBe(4_000);
  });
});

describe('with one load balancer nothing of keepalived exists', () => {
  test('renderKeepalivedConfig fails when loadBalancer.count is 1', () => {
    const one = planOf();
    expect(() => renderKeepalivedConfig(one, nodeOf(one, 'lb-1'))).toThrow(/loadBalancer.count must be 2 for keepalived .*got 1/);
  });
});

describe('HAProxy on both load balancers answers on the virtual IP too', () => {
  test('the frontend binds every address (*:6443), not one address, so no ip_nonlocal_bind is needed', () => {
    const cfg = lines(haproxyConfigForCluster(plan));
    expect(cfg.filter((l) => l.startsWith('bind '))).toEqual(['bind *:6443']);
  });
});

describe('fails on bad input, naming the field, the value and what is allowed', () => {
  test('fails when the node is not a load balancer of the plan', () => {
    expect(() => renderKeepalivedConfig(plan, nodeOf(plan, 'cp-1'))).toThrow(/node must be a load balancer of cluster k8s-lab \(k8s-lab-lb-1, k8s-lab-lb-2\), got k8s-lab-cp-1 \(control-plane\)/);
    const other = planOf({ name: 'other', ...TWO_LBS });
    expect(() => renderKeepalivedConfig(plan, nodeOf(other, 'lb-1'))).toThrow(/got other-lb-1/);
  });

  test('fails when a path could not be written unquoted', () => {
    expect(() => renderKeepalivedConfig(plan, lb1, { interfaceFile: 'relative.conf' })).toThrow(/interfaceFile must be an absolute path .*got "relative.conf"/);
    expect(() => renderKeepalivedConfig(plan, lb1, { checkScript: '/etc/keepalived/my check.sh' })).toThrow(/checkScript must be an absolute path .*got "\/etc\/keepalived\/my check.sh"/);
  });

  test('fails on timing keepalived does not take, listing every problem', () => {
    expect(() => renderKeepalivedConfig(plan, lb1, { timing: { advertIntSec: 0.5, fall: 0, checkIntervalSec: 0 } })).toThrow(
      /timing.advertIntSec must be an integer from 1 to 255 \(seconds\), got 0.5\n.*timing.checkIntervalSec must be an integer from 1 to 3600 \(seconds\), got 0\n.*timing.fall must be an integer from 1 to 100, got 0/,
    );
  });
});
