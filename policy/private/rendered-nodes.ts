import { NodeFiles } from '../../bootstrap';
import { NodePlan, NodeRole } from '../../spec';
import { Finding, PolicyInput } from '../policy-rule';
import { readCloudConfig } from './cloud-config-reader';

/** One node as a rule checks it: the plan, its rendered files, its parsed user-data, and how to report. */
export interface NodeUnderCheck {
  readonly node: NodePlan;
  readonly files: NodeFiles;
  /** The node's user-data, parsed as a `#cloud-config` mapping. */
  readonly config: Record<string, unknown>;
  /** Records a finding of this rule against this node. */
  readonly problem: (message: string) => void;
}

/**
 * Runs `visit` on every planned node (of `roles`, when given) whose rendered user-data reads as a
 * cloud-config, and returns the findings it reported. A node with no rendered files, or whose
 * user-data cannot be read, is a finding itself: a rule must not pass because the input is missing.
 */
export function checkNodeConfigs(input: PolicyInput, rule: string, visit: (node: NodeUnderCheck) => void, roles?: readonly NodeRole[]): Finding[] {
  const findings: Finding[] = [];
  for (const node of input.plan.nodes) {
    if (roles !== undefined && !roles.includes(node.role)) continue;
    const problem = (message: string) => findings.push({ rule, node: node.hostname, message });
    const files = input.files[node.hostname];
    if (files === undefined) {
      problem('no rendered files for this planned node');
      continue;
    }
    const { config, error } = readCloudConfig(files['user-data']);
    if (config === undefined) problem(error);
    else visit({ node, files, config, problem });
  }
  return findings;
}
