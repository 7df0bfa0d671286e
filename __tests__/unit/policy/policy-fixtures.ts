import * as YAML from 'yaml';
import { PolicyInput, policyInputOf } from '../../../policy';
import { ClusterSpecInput } from '../../../spec';
import { planOf } from '../../fixtures/bootstrap-helpers';
import { FAKE_SECRETS, FAKE_SECRETS_WITH_ETCD } from '../../fixtures/fake-secrets';

/** The policy input of a spec document (`{}`: the default cluster), rendered with FAKE_SECRETS (plus the fake etcd set for external etcd). */
export function renderedInput(doc: ClusterSpecInput = {}): PolicyInput {
  const plan = planOf(doc);
  return policyInputOf(plan, plan.etcdNodes.length > 0 ? FAKE_SECRETS_WITH_ETCD : FAKE_SECRETS);
}

/** The hostname of a node of the default cluster by suffix, e.g. `cp-2`. */
export function host(suffix: string): string {
  return `k8s-lab-${suffix}`;
}

/** A copy of `input` where one node's file is replaced by `edit(old text)`. */
export function withFile(input: PolicyInput, suffix: string, name: string, edit: (text: string) => string | undefined): PolicyInput {
  const hostname = host(suffix);
  const files = { ...input.files[hostname] };
  const text = edit(files[name]);
  if (text === undefined) delete files[name];
  else files[name] = text;
  return { ...input, files: { ...input.files, [hostname]: files } };
}

/** A loosely typed cloud-config, for tampering. */
export type AnyConfig = Record<string, any>;

/** A copy of `input` where one node's user-data is parsed, changed by `mutate`, and serialised again. */
export function withUserData(input: PolicyInput, suffix: string, mutate: (config: AnyConfig) => void): PolicyInput {
  return withFile(input, suffix, 'user-data', (text) => {
    const config = YAML.parse(text) as AnyConfig;
    mutate(config);
    return '#cloud-config\n' + YAML.stringify(config, { lineWidth: 0 });
  });
}

/** The write_files entry at `path` of a tampered config. */
export function entry(config: AnyConfig, path: string): AnyConfig {
  const found = (config.write_files as AnyConfig[]).find((f) => f.path === path);
  if (!found) throw new Error(`no write_files entry ${path}`);
  return found;
}

/** A copy of a multi-document YAML text with each document changed by `mutate`. */
export function editYamlDocs(text: string, mutate: (doc: AnyConfig) => void): string {
  return YAML.parseAllDocuments(text)
    .map((d) => {
      const doc = d.toJS() as AnyConfig;
      mutate(doc);
      return YAML.stringify(doc, { lineWidth: 0 });
    })
    .join('---\n');
}
