/**
 * Kubernetes' syntax rules for names, label keys/values and taints, as pure predicates.
 * Shared by the cluster spec (node labels and taints) and the cdk8s charts (pod labels), so both
 * sides of "pods pinned to nodes by label" accept exactly the same strings.
 * Source: k8s.io/apimachinery/pkg/util/validation (IsDNS1123Label, IsQualifiedName, IsValidLabelValue).
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** What a DNS-1123 label is, for error messages. */
export const DNS1123_LABEL_RULE = 'a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters';

/** Is `s` a DNS-1123 label (a hostname part, a Kubernetes object name)? */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** Is `s` a DNS-1123 subdomain (dot-separated labels, at most 253 characters)? */
export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** What a label key is, for error messages. */
export const LABEL_KEY_RULE = 'a label key: an optional DNS subdomain prefix and "/", then a name of at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit';

/** Is `key` a valid label (or taint, or annotation) key: `[prefix/]name`? */
export function isLabelKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  if (name.length > 63 || !QUALIFIED_NAME_PART.test(name)) return false;
  if (parts.length === 2) {
    const prefix = parts[0];
    return prefix.length > 0 && isDns1123Subdomain(prefix);
  }
  return true;
}

/** What a label value is, for error messages. */
export const LABEL_VALUE_RULE = 'a label value: empty, or at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit';

/** Is `value` a valid label value? */
export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && QUALIFIED_NAME_PART.test(value));
}

/**
 * The label prefixes a kubelet may set on its own Node (the NodeRestriction admission plugin):
 * any prefix outside kubernetes.io/k8s.io, or one of these inside them.
 */
const KUBELET_ALLOWED_K8S_PREFIXES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];
const KUBELET_ALLOWED_K8S_KEYS = [
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'node.kubernetes.io/instance-type',
];

/** What labels a kubelet may set on itself, for error messages. */
export const NODE_LABEL_RULE = 'a label the kubelet may set on its own node: no kubernetes.io or k8s.io prefix other than kubelet.kubernetes.io/ and node.kubernetes.io/ (NodeRestriction rejects the others, e.g. node-role.kubernetes.io/*)';

/** May a kubelet register its Node with this label key (`--node-labels`)? */
export function isSelfAssignableNodeLabel(key: string): boolean {
  if (!key.includes('/')) return true;
  const prefix = key.split('/')[0];
  const inK8sNamespace = [ 'kubernetes.io', 'k8s.io' ].some((ns) => prefix === ns || prefix.endsWith(`.${ns}`));
  if (!inK8sNamespace) return true;
  if (KUBELET_ALLOWED_K8S_KEYS.includes(key)) return true;
  return KUBELET_ALLOWED_K8S_PREFIXES.some((p) => prefix === p || prefix.endsWith(`.${p}`));
}

/** The taint effects Kubernetes knows. */
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
/** A taint effect. */
export type TaintEffect = (typeof TAINT_EFFECTS)[number];
