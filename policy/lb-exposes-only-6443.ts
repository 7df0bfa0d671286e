import { NodeRole } from '../spec';
import { PolicyRule } from './policy-rule';
import { writtenFiles } from './private/cloud-config-reader';
import { checkNodeConfigs } from './private/rendered-nodes';

const ID = 'lb-exposes-only-6443';

/** etcd client/peer, kubelet, controller-manager and scheduler ports: never behind the load balancer, not even on loopback. */
const INTERNAL_PORTS = [2379, 2380, 10250, 10257, 10259];

/**
 * lb-exposes-only-6443: the load balancer publishes the Kubernetes API and nothing else. In every
 * haproxy.cfg (the load balancer's `haproxy.cfg` and any copy user-data writes), each `bind`
 * address is a unix socket, a loopback address, or the API port (plan.apiEndpoint.port, 6443) —
 * never the etcd, kubelet, controller-manager or scheduler ports; `stats socket` and `peer`
 * listeners are loopback or unix sockets only. A keepalived.conf, if any, has no `virtual_server`
 * (keepalived speaks VRRP; an LVS virtual server would forward ports of its own).
 */
export const lbExposesOnly6443: PolicyRule = {
  id: ID,
  description: 'The load balancer listens on the API port only (anything else on loopback or a unix socket); keepalived forwards no ports.',
  check(input) {
    const apiPort = input.plan.apiEndpoint.port;
    return checkNodeConfigs(input, ID, ({ node, files, config, problem }) => {
      const written = writtenFiles(config);
      const haproxyConfigs = [
        ...(files['haproxy.cfg'] !== undefined ? [{ name: 'haproxy.cfg', text: files['haproxy.cfg'] }] : []),
        ...written.filter((f) => f.path.endsWith('haproxy.cfg')).map((f) => ({ name: `user-data write_files ${f.path}`, text: f.content })),
      ];
      if (node.role === NodeRole.LOAD_BALANCER && haproxyConfigs.length === 0) problem('no haproxy.cfg rendered for this load balancer');
      for (const cfg of haproxyConfigs) {
        for (const { listener, kind, line } of haproxyListeners(cfg.text)) {
          const why = listenerProblem(listener, kind, apiPort);
          if (why !== undefined) problem(`${cfg.name} line ${line}: ${kind} ${listener} ${why}`);
        }
      }
      for (const f of written.filter((w) => w.path.endsWith('keepalived.conf'))) {
        if (/^\s*virtual_server\b/m.test(f.content)) problem(`user-data write_files ${f.path} declares a virtual_server (LVS forwarding); keepalived may only move the virtual IP`);
      }
    });
  },
};

/** Every address HAProxy listens on: `bind` lines (comma-separated), `stats socket`, `peer`. */
function haproxyListeners(text: string): { listener: string; kind: string; line: number }[] {
  const found: { listener: string; kind: string; line: number }[] = [];
  let section = '';
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '');
    if (line.trim() === '') return;
    const words = line.trim().split(/\s+/);
    if (/^\S/.test(line)) {
      section = words[0];
      return;
    }
    if (words[0] === 'bind' && words[1] !== undefined) words[1].split(',').forEach((a) => found.push({ listener: a, kind: 'bind', line: i + 1 }));
    if (words[0] === 'stats' && words[1] === 'socket' && words[2] !== undefined) found.push({ listener: words[2], kind: 'stats socket', line: i + 1 });
    if (section === 'peers' && words[0] === 'peer' && words[2] !== undefined) found.push({ listener: words[2], kind: 'peer', line: i + 1 });
  });
  return found;
}

/** Why a listener breaks the rule, or undefined when it is allowed. */
function listenerProblem(listener: string, kind: string, apiPort: number): string | undefined {
  if (/^(\/|unix@|abns@)/.test(listener)) return undefined;
  const address = listener.replace(/^(ipv4|ipv6|tcp|tcp4|tcp6|udp|udp4|udp6)@/, '');
  const colon = address.lastIndexOf(':');
  const host = (colon < 0 ? address : address.slice(0, colon)).replace(/^\[|\]$/g, '');
  const port = colon < 0 ? '' : address.slice(colon + 1);
  const loopback = /^127\./.test(host) || host === '::1' || host === 'localhost';
  const [low, high] = port.split('-').map(Number);
  const inRange = (p: number) => p >= low && p <= (high ?? low);
  const internal = INTERNAL_PORTS.filter(inRange);
  if (internal.length > 0) return `exposes port ${internal.join(', ')} (etcd/kubelet/controller-manager/scheduler), which must never be load-balanced`;
  if (loopback) return undefined;
  if (kind !== 'bind') return `listens on a non-loopback address; a ${kind} may only be a unix socket or on 127.0.0.1`;
  if (port !== String(apiPort)) return `listens on a non-loopback address with port ${JSON.stringify(port)}; only the API port ${apiPort} may be exposed`;
  return undefined;
}
