import { LABEL_KEY_RULE, LABEL_VALUE_RULE, isLabelKey, isLabelValue } from '../../spec';

/** Shows a received value in an error message. */
export function describeValue(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json;
}

/** `field` must be a whole number of replicas, 0 or more. */
export function checkReplicas(field: string, replicas: number): number {
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new Error(`${field} must be a whole number of at least 0, got ${describeValue(replicas)}`);
  }
  return replicas;
}

/** `field` must be a set of labels with valid keys and values (it may be empty). */
export function checkLabelSyntax(field: string, labels: Readonly<Record<string, string>>): Record<string, string> {
  for (const [key, value] of Object.entries(labels)) {
    if (!isLabelKey(key)) throw new Error(`${field}: key ${describeValue(key)} must be ${LABEL_KEY_RULE}`);
    if (typeof value !== 'string' || !isLabelValue(value)) {
      throw new Error(`${field}[${describeValue(key)}] must be ${LABEL_VALUE_RULE}, got ${describeValue(value)}`);
    }
  }
  return { ...labels };
}

/**
 * `field` must be a non-empty set of labels with valid keys and values: it is a Deployment's
 * selector, and an empty selector is rejected by the API server (it would select every pod).
 */
export function checkLabels(field: string, labels: Readonly<Record<string, string>>): Record<string, string> {
  if (Object.keys(labels).length === 0) {
    throw new Error(`${field} must have at least one label (it is the selector of the workload's pods), got {}`);
  }
  return checkLabelSyntax(field, labels);
}

/** A workload's labels: its selector's, and all its pods carry (the selector's first, then the others). */
export interface WorkloadLabels {
  readonly selector: Readonly<Record<string, string>>;
  readonly pod: Readonly<Record<string, string>>;
}

/**
 * A workload's selector (`selectorField`: what its pods are, fixed once the Deployment exists) and its pods'
 * other labels (`otherField`: free to change later). The two may not share a key: a label that is in the
 * selector is the selector's to set.
 */
export function checkWorkloadLabels(
  selectorField: string,
  selectorLabels: Readonly<Record<string, string>>,
  otherField: string,
  otherLabels: Readonly<Record<string, string>>,
): WorkloadLabels {
  const selector = checkLabels(selectorField, selectorLabels);
  const other = checkLabelSyntax(otherField, otherLabels);
  for (const key of Object.keys(other)) {
    if (key in selector) {
      throw new Error(
        `${otherField}[${describeValue(key)}] is also in ${selectorField} (${describeValue(selector)}); a label is either the selector's or one of the pods' other labels, not both: remove it from one`,
      );
    }
  }
  return { selector, pod: { ...selector, ...other } };
}

/** `field` must have annotation keys (label-key syntax); values are free text. */
export function checkAnnotations(field: string, annotations: Readonly<Record<string, string>>): Record<string, string> {
  for (const [key, value] of Object.entries(annotations)) {
    if (!isLabelKey(key)) throw new Error(`${field}: key ${describeValue(key)} must be ${LABEL_KEY_RULE}`);
    if (typeof value !== 'string') throw new Error(`${field}[${describeValue(key)}] must be a string, got ${describeValue(value)}`);
  }
  return { ...annotations };
}

const TAGGED = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[a-f0-9]{64}$/;
const FLOATING_TAGS = ['latest', 'stable', 'mainline', 'edge'];

/**
 * `field` must be an image reference pinned to a tag or digest: a pod restarted tomorrow must run
 * the same image as today, so untagged references and floating tags (latest) are refused.
 */
export function checkImage(field: string, image: string): string {
  const allowed = 'an image reference pinned to a version tag or a digest, e.g. registry.k8s.io/e2e-test-images/agnhost:2.63.0 or NAME@sha256:<64 hex digits>, not untagged and not a floating tag (latest, stable, mainline, edge)';
  if (typeof image !== 'string' || !(TAGGED.test(image) || DIGEST.test(image))) {
    throw new Error(`${field} must be ${allowed}, got ${describeValue(image)}`);
  }
  const tag = DIGEST.test(image) ? undefined : image.slice(image.lastIndexOf(':') + 1);
  if (tag !== undefined && FLOATING_TAGS.includes(tag)) {
    throw new Error(`${field} must be ${allowed}, got ${describeValue(image)}`);
  }
  return image;
}
