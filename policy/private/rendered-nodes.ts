import { NodeFiles } from '../../bootstrap';
import { NodePlan, NodeRole } from '../../spec';
import { Finding, PolicyInput } from '../policy-rule';

/** A planned node and the files rendered for it. */
export interface RenderedNode {
  readonly node: NodePlan;
  readonly files: NodeFiles;
}

/**
 * The planned nodes of the given roles that have rendered files, and a finding for each that has
 * none (a rule must not pass because a node's files are missing).
 */
export function renderedNodes(input: PolicyInput, rule: string, roles?: readonly NodeRole[]): { nodes: RenderedNode[]; findings: Finding[] } {
  const nodes: RenderedNode[] = [];
  const findings: Finding[] = [];
  for (const node of input.plan.nodes) {
    if (roles !== undefined && !roles.includes(node.role)) continue;
    const files = input.files[node.hostname];
    if (files === undefined) findings.push({ rule, node: node.hostname, message: 'no rendered files for this planned node' });
    else nodes.push({ node, files });
  }
  return { nodes, findings };
}
