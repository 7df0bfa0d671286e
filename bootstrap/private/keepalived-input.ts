import { ClusterPlan, NodePlan, NodeRole } from '../../spec';

/**
 * Checks of the keepalived.conf renderer's input. Each returns the problems it found, one line
 * each, naming the field, the value received and what is allowed (empty when the value is fine).
 */

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** A whole number within [min, max]. */
export function checkKeepalivedInt(field: string, value: number, min: number, max: number, unit = ''): string[] {
  if (Number.isInteger(value) && value >= min && value <= max) return [];
  return [`${field} must be an integer from ${min} to ${max}${unit}, got ${show(value)}`];
}

/**
 * An absolute path keepalived can read unquoted and that the VM's shell needs no quoting for:
 * `/` followed by letters, digits, `.`, `_`, `-` and `/` (no spaces, quotes, `$` or `#`, which
 * keepalived's parser would treat as separators, parameters or comments).
 */
export function checkKeepalivedPath(field: string, value: string): string[] {
  if (typeof value === 'string' && /^(\/[A-Za-z0-9._-]+)+$/.test(value)) return [];
  return [`${field} must be an absolute path of letters, digits, '.', '_', '-' and '/', got ${show(value)}`];
}

/** The plan has exactly two load balancers, a virtual IP, and `node` is one of its load balancers. */
export function checkKeepalivedPlan(plan: ClusterPlan, node: NodePlan): string[] {
  const problems: string[] = [];
  if (plan.loadBalancers.length !== 2) {
    problems.push(`loadBalancer.count must be 2 for keepalived (it moves the virtual IP between two load balancers), got ${plan.loadBalancers.length}`);
  }
  const vip = plan.spec.loadBalancer.virtualIp;
  if (vip === undefined) problems.push('loadBalancer.virtualIp must be set for keepalived, got undefined');
  else if (plan.apiEndpoint.ip !== vip) problems.push(`apiEndpoint.ip must be the virtual IP ${vip}, got ${show(plan.apiEndpoint.ip)}`);
  else if (plan.loadBalancers.some((lb) => lb.ip === vip)) problems.push(`loadBalancer.virtualIp must differ from the load balancers' own addresses, got ${vip}`);
  const lb = plan.loadBalancers.find((n) => n.hostname === node.hostname);
  if (node.role !== NodeRole.LOAD_BALANCER || lb === undefined || lb.ip !== node.ip || lb.index !== node.index) {
    problems.push(`node must be a load balancer of cluster ${plan.spec.name} (${plan.loadBalancers.map((n) => n.hostname).join(', ') || 'none'}), got ${node.hostname} (${node.role})`);
  }
  return problems;
}
