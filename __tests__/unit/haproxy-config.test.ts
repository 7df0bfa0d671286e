import {
  DEFAULT_HAPROXY_HEALTH_CHECK,
  HaproxyConfigInput,
  failoverBoundMs,
  haproxyConfigForCluster,
  haproxyInputForCluster,
  recoveryBoundMs,
  renderHaproxyConfig,
  resolveHealthCheck,
} from '../../bootstrap/haproxy-config';
import { ClusterPlan } from '../../spec';
import { planOf } from '../fixtures/bootstrap-helpers';

const defaultPlan = (): ClusterPlan => planOf({});
const lines = (cfg: string): string[] => cfg.split('\n');
/** The lines of one section (`frontend apiserver`), indented body only, trimmed. */
const section = (cfg: string, header: string): string[] => {
  const all = lines(cfg);
  const start = all.indexOf(header);
  if (start < 0) throw new Error(`no section ${header}`);
  const body: string[] = [];
  for (const line of all.slice(start + 1)) {
    if (!line.startsWith(' ')) break;
    body.push(line.trim());
  }
  return body;
};
const smallInput = (over: Partial<HaproxyConfigInput> = {}): HaproxyConfigInput => ({
  frontend: { address: '127.0.0.1', port: 16443 },
  backends: [{ name: 'cp-1', address: '127.0.0.11', port: 6443 }],
  ...over,
});

describe('haproxyConfigForCluster (default cluster)', () => {
  test('the frontend binds every address of the node on 6443, in TCP mode with TCP logs', () => {
    // GIVEN the default cluster
    // WHEN its haproxy.cfg is rendered
    const frontend = section(haproxyConfigForCluster(defaultPlan()), 'frontend apiserver');
    // THEN the frontend follows kubeadm's guide
    expect(frontend).toEqual(['bind *:6443', 'mode tcp', 'option tcplog', 'default_backend apiserverbackend']);
  });

  test('the backend health-checks GET /healthz over TLS and balances round robin', () => {
    const backend = section(haproxyConfigForCluster(defaultPlan()), 'backend apiserverbackend');
    expect(backend).toEqual(
      expect.arrayContaining([
        'mode tcp',
        'balance roundrobin',
        'option httpchk',
        'http-check connect ssl',
        'http-check send meth GET uri /healthz',
        'http-check expect status 200',
        'timeout check 10s',
      ]),
    );
    // The check's connect must come before its send, or HAProxy checks in clear text.
    expect(backend.indexOf('http-check connect ssl')).toBeLessThan(backend.indexOf('http-check send meth GET uri /healthz'));
  });

  test('one server line per control plane: hostname, ip:6443, check verify none and explicit timing', () => {
    // GIVEN the default cluster (3 control planes)
    const plan = defaultPlan();
    // WHEN rendered
    const servers = section(haproxyConfigForCluster(plan), 'backend apiserverbackend').filter((l) => l.startsWith('server '));
    // THEN each control plane appears once, in plan order
    expect(servers).toEqual(plan.controlPlanes.map((cp) => `server ${cp.hostname} ${cp.ip}:6443 check verify none inter 2s fall 3 rise 2`));
    expect(servers).toHaveLength(3);
  });

  test('follows the control-plane count of the spec', () => {
    const servers = haproxyConfigForCluster(planOf({ controlPlane: { count: 5 } }))
      .split('\n')
      .filter((l) => l.trim().startsWith('server '));
    expect(servers.map((l) => l.trim().split(' ')[1])).toEqual(['k8s-lab-cp-1', 'k8s-lab-cp-2', 'k8s-lab-cp-3', 'k8s-lab-cp-4', 'k8s-lab-cp-5']);
  });

  test("defaults carry kubeadm's timeouts, TCP mode, and a single redispatched retry", () => {
    const defaults = section(haproxyConfigForCluster(defaultPlan()), 'defaults');
    expect(defaults).toEqual(
      expect.arrayContaining(['mode tcp', 'timeout connect 5s', 'timeout client 35s', 'timeout server 35s', 'option redispatch', 'retries 1']),
    );
  });

  test('global logs to stdout and drops root for the haproxy account', () => {
    const global = section(haproxyConfigForCluster(defaultPlan()), 'global');
    expect(global).toEqual(['log stdout format raw local0', 'user haproxy', 'group haproxy']);
    // No `daemon`: systemd (and the live test's -db) keep HAProxy in the foreground.
    expect(global).not.toContain('daemon');
  });

  test('exposes no stats page or socket, and binds nothing but the API frontend', () => {
    const cfg = haproxyConfigForCluster(defaultPlan());
    const directives = lines(cfg).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(directives.filter((l) => /^stats\b/.test(l))).toEqual([]);
    expect(directives.filter((l) => /^listen\b/.test(l))).toEqual([]);
    expect(directives.filter((l) => /^bind\b/.test(l))).toEqual(['bind *:6443']);
  });

  test('the input for a cluster names the control planes of the plan as they are', () => {
    const plan = defaultPlan();
    expect(haproxyInputForCluster(plan)).toEqual({
      frontend: { address: '*', port: 6443 },
      backends: [
        { name: 'k8s-lab-cp-1', address: plan.controlPlanes[0].ip, port: 6443 },
        { name: 'k8s-lab-cp-2', address: plan.controlPlanes[1].ip, port: 6443 },
        { name: 'k8s-lab-cp-3', address: plan.controlPlanes[2].ip, port: 6443 },
      ],
    });
  });

  test('is byte-identical across renders and ends with one newline', () => {
    const a = haproxyConfigForCluster(defaultPlan());
    expect(haproxyConfigForCluster(defaultPlan())).toBe(a);
    expect(a.endsWith('\n')).toBe(true);
    expect(a.endsWith('\n\n')).toBe(false);
  });

  test('golden: the default cluster', () => {
    expect(haproxyConfigForCluster(defaultPlan())).toMatchSnapshot();
  });
});

describe('renderHaproxyConfig', () => {
  test('renders health-check overrides on every server line and in timeout check', () => {
    // GIVEN tighter checks than the defaults
    const cfg = renderHaproxyConfig(smallInput({ healthCheck: { interMs: 1500, fall: 2, rise: 1, timeoutCheckMs: 2000 } }));
    // THEN the server line and the backend carry them, in HAProxy's duration notation
    expect(lines(cfg)).toContain('    server cp-1 127.0.0.11:6443 check verify none inter 1500ms fall 2 rise 1');
    expect(lines(cfg)).toContain('    timeout check 2s');
  });

  test('a partial health check keeps the other defaults', () => {
    expect(resolveHealthCheck({ fall: 5 })).toEqual({ ...DEFAULT_HAPROXY_HEALTH_CHECK, fall: 5 });
    expect(resolveHealthCheck({ fall: undefined })).toEqual(DEFAULT_HAPROXY_HEALTH_CHECK);
  });

  test('binds the given frontend address and port, and accepts hostnames for servers', () => {
    const cfg = renderHaproxyConfig(smallInput({ backends: [{ name: 'cp-1', address: 'cp-1.k8s.lab', port: 443 }] }));
    expect(lines(cfg)).toContain('    bind 127.0.0.1:16443');
    expect(lines(cfg)).toContain('    server cp-1 cp-1.k8s.lab:443 check verify none inter 2s fall 3 rise 2');
  });

  test('runs as another account when asked', () => {
    const cfg = renderHaproxyConfig(smallInput({ runAs: { user: 'nobody', group: 'nogroup' } }));
    expect(section(cfg, 'global')).toEqual(['log stdout format raw local0', 'user nobody', 'group nogroup']);
  });

  test('failover and recovery bounds follow the rendered timing', () => {
    const check = resolveHealthCheck({ interMs: 1000, fall: 2, rise: 3, timeoutCheckMs: 2000 });
    expect(failoverBoundMs(check)).toBe(2 * 1000 + 2000);
    expect(recoveryBoundMs(check)).toBe(3 * 1000 + 2000);
    expect(failoverBoundMs(DEFAULT_HAPROXY_HEALTH_CHECK)).toBe(3 * 2000 + 10_000);
  });

  describe('fails when', () => {
    test('there is no backend', () => {
      expect(() => renderHaproxyConfig(smallInput({ backends: [] }))).toThrow(/backends must list at least one API server, got \[\]/);
    });

    test('a frontend port is out of range', () => {
      expect(() => renderHaproxyConfig(smallInput({ frontend: { address: '*', port: 0 } }))).toThrow(/frontend\.port must be an integer port from 1 to 65535, got 0/);
      expect(() => renderHaproxyConfig(smallInput({ frontend: { address: '*', port: 65536 } }))).toThrow(/frontend\.port .* got 65536/);
      expect(() => renderHaproxyConfig(smallInput({ frontend: { address: '*', port: 6443.5 } }))).toThrow(/frontend\.port .* got 6443\.5/);
    });

    test('a backend port is out of range', () => {
      expect(() => renderHaproxyConfig(smallInput({ backends: [{ name: 'cp-1', address: '10.0.0.1', port: -1 }] }))).toThrow(
        /backends\[0\]\.port must be an integer port from 1 to 65535, got -1/,
      );
    });

    test('an address is neither IPv4 nor a hostname', () => {
      expect(() => renderHaproxyConfig(smallInput({ backends: [{ name: 'cp-1', address: '10.0.0.256', port: 6443 }] }))).toThrow(
        /backends\[0\]\.address must be an IPv4 address .* or a DNS hostname, got "10\.0\.0\.256"/,
      );
      expect(() => renderHaproxyConfig(smallInput({ backends: [{ name: 'cp-1', address: '::1', port: 6443 }] }))).toThrow(/backends\[0\]\.address .* got "::1"/);
      // A space would let a value add its own keywords to the server line.
      expect(() => renderHaproxyConfig(smallInput({ backends: [{ name: 'cp-1', address: '10.0.0.1 backup', port: 6443 }] }))).toThrow(/backends\[0\]\.address/);
      expect(() => renderHaproxyConfig(smallInput({ frontend: { address: '*:6443', port: 6443 } }))).toThrow(
        /frontend\.address must be .*, or '\*' for every address of the node, got "\*:6443"/,
      );
    });

    test('a backend name is not a valid HAProxy server name', () => {
      expect(() => renderHaproxyConfig(smallInput({ backends: [{ name: 'cp 1', address: '10.0.0.1', port: 6443 }] }))).toThrow(
        /backends\[0\]\.name must be 1 to 63 characters of letters, digits, '-', '_', '\.' and ':', got "cp 1"/,
      );
      expect(() => renderHaproxyConfig(smallInput({ backends: [{ name: '', address: '10.0.0.1', port: 6443 }] }))).toThrow(/backends\[0\]\.name .* got ""/);
    });

    test('two backends share a name', () => {
      const backends = [
        { name: 'cp-1', address: '10.0.0.1', port: 6443 },
        { name: 'cp-1', address: '10.0.0.2', port: 6443 },
      ];
      expect(() => renderHaproxyConfig(smallInput({ backends }))).toThrow(/backends\[1\]\.name must be unique, got "cp-1" \(also backends\[0\]\.name\)/);
    });

    test('health-check timing is out of range', () => {
      expect(() => renderHaproxyConfig(smallInput({ healthCheck: { interMs: 0 } }))).toThrow(/healthCheck\.interMs must be an integer from 100 to 3600000 \(milliseconds\), got 0/);
      expect(() => renderHaproxyConfig(smallInput({ healthCheck: { fall: 0 } }))).toThrow(/healthCheck\.fall must be an integer from 1 to 100, got 0/);
      expect(() => renderHaproxyConfig(smallInput({ healthCheck: { rise: 1.5 } }))).toThrow(/healthCheck\.rise .* got 1\.5/);
      expect(() => renderHaproxyConfig(smallInput({ healthCheck: { timeoutCheckMs: -5 } }))).toThrow(/healthCheck\.timeoutCheckMs .* got -5/);
    });

    test('the account to run as is not an account name', () => {
      expect(() => renderHaproxyConfig(smallInput({ runAs: { user: 'root\nstats', group: 'haproxy' } }))).toThrow(/runAs\.user must be a system account name .* got "root\\nstats"/);
    });

    test('it reports every problem at once', () => {
      let message = '';
      try {
        renderHaproxyConfig({ frontend: { address: '', port: 0 }, backends: [] });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/frontend\.address/);
      expect(message).toMatch(/frontend\.port/);
      expect(message).toMatch(/backends must list/);
    });
  });
});
