import * as YAML from 'yaml';
import { NodeRole } from '../spec';
import { PolicyRule } from './policy-rule';
import { shellScripts, writtenFiles } from './private/cloud-config-reader';
import { checkNodeConfigs } from './private/rendered-nodes';

const ID = 'join-pins-ca';

/** The form of a pinned CA public-key hash. */
const CA_CERT_HASH = /^sha256:[0-9a-f]{64}$/;

/**
 * join-pins-ca: a joining node trusts only the cluster's CA. Every JoinConfiguration — in the
 * node's `kubeadm.yaml` and in the copy its user-data writes — discovers the cluster with a
 * bootstrap token and non-empty `caCertHashes` (each `sha256:<64 hex>`), never sets
 * `unsafeSkipCAVerification: true`, and never uses a kubeconfig-file discovery (`discovery.file`).
 * Every control plane but the first, and every worker, must have one; no script passes
 * `--discovery-token-unsafe-skip-ca-verification`.
 */
export const joinPinsCa: PolicyRule = {
  id: ID,
  description: 'Every joining node pins the cluster CA (caCertHashes) and never skips CA verification or discovers through a kubeconfig file.',
  check(input) {
    return checkNodeConfigs(input, ID, ({ node, files, config, problem }) => {
      const sources = [
        ...(files['kubeadm.yaml'] !== undefined ? [{ name: 'kubeadm.yaml', text: files['kubeadm.yaml'] }] : []),
        ...writtenFiles(config)
          .filter((f) => f.path.endsWith('/kubeadm.yaml'))
          .map((f) => ({ name: `user-data write_files ${f.path}`, text: f.content })),
      ];
      const joins = sources.flatMap((source) => {
        const docs = YAML.parseAllDocuments(source.text);
        return docs.flatMap((doc, i) => {
          if (doc.errors.length > 0) {
            problem(`${source.name} document ${i + 1} is not valid YAML (${doc.errors[0].message.split('\n')[0]})`);
            return [];
          }
          const value: unknown = doc.toJS();
          const kind = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).kind : undefined;
          return kind === 'JoinConfiguration' ? [{ where: `${source.name} JoinConfiguration`, join: value as Record<string, unknown> }] : [];
        });
      });
      const joinsTheCluster = node.role === NodeRole.WORKER || node.index > 0;
      if (joinsTheCluster && joins.length === 0) problem(`no JoinConfiguration in ${sources.map((s) => s.name).join(' or ') || 'any kubeadm.yaml'}, but this node joins the cluster`);
      for (const { where, join } of joins) {
        const discovery = (join.discovery ?? {}) as Record<string, unknown>;
        const token = discovery.bootstrapToken as Record<string, unknown> | undefined;
        if (discovery.file !== undefined) problem(`${where} discovery.file is set: a kubeconfig-file discovery trusts whatever that file says; use discovery.bootstrapToken with caCertHashes`);
        if (token === undefined || token === null || typeof token !== 'object') {
          problem(`${where} has no discovery.bootstrapToken`);
          continue;
        }
        const hashes = token.caCertHashes;
        if (!Array.isArray(hashes) || hashes.length === 0) problem(`${where} discovery.bootstrapToken.caCertHashes must list the cluster CA's hash, got ${JSON.stringify(hashes)}`);
        else hashes.filter((h) => typeof h !== 'string' || !CA_CERT_HASH.test(h)).forEach((h) => problem(`${where} caCertHashes entry must be sha256:<64 hex digits>, got ${JSON.stringify(h)}`));
        if (token.unsafeSkipCAVerification === true) problem(`${where} discovery.bootstrapToken.unsafeSkipCAVerification is true: the node would trust any API server`);
      }
      for (const script of shellScripts(config)) {
        if (script.text.includes('--discovery-token-unsafe-skip-ca-verification')) problem(`${script.name} passes --discovery-token-unsafe-skip-ca-verification`);
      }
    }, [NodeRole.CONTROL_PLANE, NodeRole.WORKER]);
  },
};
