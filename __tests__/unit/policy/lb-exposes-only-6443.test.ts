import { lbExposesOnly6443 } from '../../../policy';
import { LABELLED_SPEC } from '../../fixtures/bootstrap-helpers';
import { entry, host, renderedInput, withFile, withUserData } from './policy-fixtures';

const input = renderedInput();
const LB = host('lb-1');
const STAGED = '/etc/k8s-lab/haproxy/haproxy.cfg';
const messages = (i: typeof input) => lbExposesOnly6443.check(i).map((f) => `${f.node}: ${f.message}`);
/** The load balancer's haproxy.cfg (the readable copy) with `lines` appended. */
const withHaproxyLines = (...lines: string[]) => withFile(input, 'lb-1', 'haproxy.cfg', (t) => t + lines.join('\n') + '\n');
/** The line number of the n-th appended line. */
const appended = (n: number) => input.files[LB]['haproxy.cfg'].trimEnd().split('\n').length + n;

describe('lb-exposes-only-6443', () => {
  test.each([
    ['the default cluster', {}],
    ['a labelled pool with an SSH key', LABELLED_SPEC],
    ['two load balancers sharing a virtual IP', { loadBalancer: { count: 2, virtualIp: '192.168.150.2' } }],
  ])('compliant: %s', (_name, doc) => {
    expect(lbExposesOnly6443.check(renderedInput(doc))).toEqual([]);
  });

  test('fails when a frontend exposes etcd', () => {
    const tampered = withHaproxyLines('frontend etcd', '    bind *:2379', '    default_backend apiserverbackend');
    expect(messages(tampered)).toEqual([`${LB}: haproxy.cfg line ${appended(2)}: bind *:2379 exposes port 2379 (etcd/kubelet/controller-manager/scheduler), which must never be load-balanced`]);
  });

  test('fails when the kubelet port is bound even on loopback, and one bind line lists it among others', () => {
    const tampered = withHaproxyLines('frontend more', '    bind 127.0.0.1:6443,127.0.0.1:10250 ssl crt /x.pem');
    expect(messages(tampered)).toEqual([expect.stringContaining('bind 127.0.0.1:10250 exposes port 10250')]);
  });

  test('fails when a stats page listens on a public address; allowed on 127.0.0.1', () => {
    const publicStats = withHaproxyLines('listen stats', '    bind :8404', '    stats enable', '    stats uri /stats');
    const loopbackStats = withHaproxyLines('listen stats', '    bind 127.0.0.1:8404', '    stats enable');
    expect(messages(publicStats)).toEqual([`${LB}: haproxy.cfg line ${appended(2)}: bind :8404 listens on a non-loopback address with port "8404"; only the API port 6443 may be exposed`]);
    expect(messages(loopbackStats)).toEqual([]);
  });

  test('fails when a stats socket is on TCP; allowed as a unix socket', () => {
    // GIVEN a global section with a socket, inserted where HAProxy reads it
    const socket = (addr: string) => withFile(input, 'lb-1', 'haproxy.cfg', (t) => t.replace('global\n', `global\n    stats socket ${addr} mode 600 level admin\n`));
    expect(messages(socket('ipv4@0.0.0.0:9999'))).toEqual([`${LB}: haproxy.cfg line 5: stats socket ipv4@0.0.0.0:9999 listens on a non-loopback address; a stats socket may only be a unix socket or on 127.0.0.1`]);
    expect(messages(socket('/run/haproxy/admin.sock'))).toEqual([]);
  });

  test('checks the copy user-data writes, not only the readable haproxy.cfg', () => {
    const tampered = withUserData(input, 'lb-1', (c) => (entry(c, STAGED).content = entry(c, STAGED).content.replace('bind *:6443', 'bind *:6443,*:8080')));
    expect(messages(tampered)).toEqual([expect.stringMatching(new RegExp(`^${LB}: user-data write_files ${STAGED} line \\d+: bind \\*:8080 listens on a non-loopback address`))]);
  });

  test('fails when keepalived declares an LVS virtual_server; a VRRP-only keepalived.conf passes', () => {
    const keepalived = (content: string) => withUserData(input, 'lb-1', (c) => c.write_files.push({ path: '/etc/keepalived/keepalived.conf', content, permissions: '0644' }));
    const vrrp = 'vrrp_instance API {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    192.168.150.2\n  }\n}\n';
    expect(messages(keepalived(vrrp))).toEqual([]);
    expect(messages(keepalived(vrrp + 'virtual_server 192.168.150.2 2379 {\n  lb_kind NAT\n}\n'))).toEqual([
      `${LB}: user-data write_files /etc/keepalived/keepalived.conf declares a virtual_server (LVS forwarding); keepalived may only move the virtual IP`,
    ]);
  });

  test('fails when the load balancer has no haproxy.cfg at all', () => {
    const noCopy = withFile(input, 'lb-1', 'haproxy.cfg', () => undefined);
    const tampered = withUserData(noCopy, 'lb-1', (c) => (c.write_files = c.write_files.filter((f: { path: string }) => f.path !== STAGED)));
    expect(messages(tampered)).toEqual([`${LB}: no haproxy.cfg rendered for this load balancer`]);
  });
});
