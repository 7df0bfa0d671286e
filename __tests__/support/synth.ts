import { App, Testing } from 'cdktf';
import { ClusterStack } from '../../constructs';
import { ClusterSpecInput, parseClusterSpec } from '../../spec';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';

/** The synthesized Terraform JSON of a cluster built from a spec document, with fake secrets. */
export interface SynthResult {
  readonly json: string;
  readonly tf: TerraformJson;
  readonly stack: ClusterStack;
}

/** The parts of cdk.tf.json the tests read. */
export interface TerraformJson {
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly output: Record<string, { value: unknown }>;
}

/** Synthesizes the cluster stack for `doc` (a spec document; `{}` is the default cluster). */
export function synthCluster(doc: ClusterSpecInput = {}): SynthResult {
  const { spec } = parseClusterSpec(doc);
  const app = Testing.app();
  const stack = new ClusterStack(app, { spec, secrets: FAKE_SECRETS });
  const json = Testing.synth(stack);
  return { json, tf: JSON.parse(json) as TerraformJson, stack };
}

/** The resources of one type, by logical ID. */
export function resources(tf: TerraformJson, type: string): Record<string, Record<string, unknown>> {
  return tf.resource[type] ?? {};
}

/** A new app writing to a temp dir, for full synths. */
export function tempApp(): App {
  return Testing.app();
}
