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
 * What a change of spec does to the resources of `before`: the IDs of those added, of those changed, and of those
 * removed. A resource is changed when its body differs, or when it refers (`${type.id.…}`, at any depth) to a
 * resource that is changed: every libvirt volume attribute these stacks set forces a new volume, with a new ID, and
 * a domain whose disk is a new volume is a new domain (its `replace_triggered_by`; the deploy tier shows both with
 * the real provider). The network is compared without its DNS host list, which
 * libvirt updates in place (so its ID stays); `dnsHostsKept` says whether every DNS host of before is still there.
 */
export function resourceChanges(before: TerraformJson, after: TerraformJson): { added: string[]; changed: string[]; removed: string[]; dnsHostsKept: boolean } {
  const ids = (tf: TerraformJson) => Object.entries(tf.resource).flatMap(([type, byId]) => Object.keys(byId).map((id) => `${type}.${id}`));
  const raw = (tf: TerraformJson, key: string) => {
    const [type, id] = key.split('.');
    return tf.resource[type]?.[id] as { dns?: { hosts?: unknown[] } } | undefined;
  };
  const body = (tf: TerraformJson, key: string) => {
    const b = raw(tf, key);
    return key.startsWith('libvirt_network.') && b?.dns ? { ...b, dns: { ...b.dns, hosts: undefined } } : b;
  };
  const hosts = (tf: TerraformJson) => Object.values(tf.resource.libvirt_network ?? {}).flatMap((n) => ((n as { dns?: { hosts?: unknown[] } }).dns?.hosts ?? []).map((h) => JSON.stringify(h)));
  const [was, is] = [ids(before), ids(after)];
  const kept = was.filter((k) => is.includes(k));
  const changed = new Set(kept.filter((k) => JSON.stringify(body(before, k)) !== JSON.stringify(body(after, k))));
  // What each kept resource refers to, in its new body.
  const refersTo = new Map(kept.map((k) => [k, kept.filter((other) => other !== k && JSON.stringify(raw(after, k) ?? {}).includes(`\${${other}.`))]));
  for (let grew = true; grew; ) {
    grew = false;
    for (const k of kept) {
      if (!changed.has(k) && refersTo.get(k)!.some((r) => changed.has(r))) {
        changed.add(k);
        grew = true;
      }
    }
  }
  return {
    added: is.filter((k) => !was.includes(k)),
    removed: was.filter((k) => !is.includes(k)),
    changed: kept.filter((k) => changed.has(k)),
    dnsHostsKept: hosts(before).every((h) => hosts(after).includes(h)),
  };
}
