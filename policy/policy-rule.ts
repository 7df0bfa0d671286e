import { NodeFiles } from '../bootstrap';
import { ClusterPlan } from '../spec';

/**
 * What every policy rule reads: the cluster plan and the files rendered for each of its nodes
 * (`renderNodeFiles`), by hostname — exactly what the VMs get, before any of it is deployed.
 */
export interface PolicyInput {
  /** The cluster plan the files were rendered from. */
  readonly plan: ClusterPlan;
  /** Each node's rendered files (`user-data`, `meta-data`, `kubeadm.yaml` or `haproxy.cfg`), by hostname. */
  readonly files: Readonly<Record<string, NodeFiles>>;
}

/** One breach of one rule on one node. */
export interface Finding {
  /** The rule's id, e.g. `ssh-key-only`. */
  readonly rule: string;
  /** The node's hostname. */
  readonly node: string;
  /** What is wrong, naming the file and the field; never a secret value. */
  readonly message: string;
}

/** A security-posture rule: a pure function from the rendered cluster to its findings (none = compliant). */
export interface PolicyRule {
  /** Stable kebab-case id; also the rule's file name. */
  readonly id: string;
  /** One sentence: what a compliant cluster looks like. */
  readonly description: string;
  /** The findings for `input`; an empty list when the cluster complies. Never throws on malformed files: they are findings. */
  readonly check: (input: PolicyInput) => Finding[];
}
