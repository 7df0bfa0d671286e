import { App, Testing } from 'cdktf';
import { ClusterStack } from '../../constructs';
import { ClusterSpecInput, EtcdTopology, parseClusterSpec } from '../../spec';
import { FAKE_SECRETS, FAKE_SECRETS_WITH_ETCD } from '../fixtures/fake-secrets';

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

/** Synthesizes the cluster stack for `doc` (a spec document; `{}` is the default cluster), with the fake secrets (and their etcd set for an external etcd). */
export function synthCluster(doc: ClusterSpecInput = {}): SynthResult {
  const { spec } = parseClusterSpec(doc);
  const app = Testing.app();
  const secrets = spec.etcd.topology === EtcdTopology.EXTERNAL ? FAKE_SECRETS_WITH_ETCD : FAKE_SECRETS;
  const stack = new ClusterStack(app, { spec, secrets });
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

/**
 * What a change of spec does to the resources of `before`: the IDs of those added, of those whose body changed, and
 * of those removed. The network is compared without its DNS host list, which libvirt updates in place; `dnsHostsKept`
 * says whether every DNS host of before is still there.
 */
export function resourceChanges(before: TerraformJson, after: TerraformJson): { added: string[]; changed: string[]; removed: string[]; dnsHostsKept: boolean } {
  const ids = (tf: TerraformJson) => Object.entries(tf.resource).flatMap(([type, byId]) => Object.keys(byId).map((id) => `${type}.${id}`));
  const body = (tf: TerraformJson, key: string) => {
    const [type, id] = key.split('.');
    const b = tf.resource[type]?.[id] as { dns?: { hosts?: unknown[] } } | undefined;
    return type === 'libvirt_network' && b?.dns ? { ...b, dns: { ...b.dns, hosts: undefined } } : b;
  };
  const hosts = (tf: TerraformJson) => Object.values(tf.resource.libvirt_network ?? {}).flatMap((n) => ((n as { dns?: { hosts?: unknown[] } }).dns?.hosts ?? []).map((h) => JSON.stringify(h)));
  const [was, is] = [ids(before), ids(after)];
  return {
    added: is.filter((k) => !was.includes(k)),
    removed: was.filter((k) => !is.includes(k)),
    changed: was.filter((k) => is.includes(k) && JSON.stringify(body(before, k)) !== JSON.stringify(body(after, k))),
    dnsHostsKept: hosts(before).every((h) => hosts(after).includes(h)),
  };
}
