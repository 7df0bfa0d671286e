import { ClusterSecrets, renderNodeFiles } from '../bootstrap';
import { ClusterPlan } from '../spec';
import { joinPinsCa } from './join-pins-ca';
import { lbExposesOnly6443 } from './lb-exposes-only-6443';
import { Finding, PolicyInput, PolicyRule } from './policy-rule';
import { secretsNotWorldReadable } from './secrets-not-world-readable';
import { sshKeyOnly } from './ssh-key-only';

/** Every rule, in the order `npm run policy` reports them. */
export const POLICY_RULES: readonly PolicyRule[] = [sshKeyOnly, joinPinsCa, lbExposesOnly6443, secretsNotWorldReadable];

/** The policy input of a cluster: every planned node's files, rendered as `npm run render` does. */
export function policyInputOf(plan: ClusterPlan, secrets: ClusterSecrets): PolicyInput {
  return { plan, files: Object.fromEntries(plan.nodes.map((node) => [node.hostname, renderNodeFiles(plan, node, secrets)])) };
}

/** Runs the rules over the input; the findings of all of them, rule by rule (none = compliant). */
export function checkPolicy(input: PolicyInput, rules: readonly PolicyRule[] = POLICY_RULES): Finding[] {
  return rules.flatMap((rule) => rule.check(input));
}

/** One line per finding: `[rule] node: message`. */
export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `[${f.rule}] ${f.node}: ${f.message}`).join('\n');
}
