import { PolicyRule } from './policy-rule';
import { shellScripts, writtenFiles } from './private/cloud-config-reader';
import { checkNodeConfigs } from './private/rendered-nodes';
import { isSecretMode, isSecretPath, secretInContent } from './private/secret-content';
import { shellCommands } from './private/shell-commands';

const ID = 'secrets-not-world-readable';

/**
 * secrets-not-world-readable: key material and credentials are readable by root only. Every
 * user-data `write_files` entry that holds a private key, a bootstrap token, a certificateKey or
 * kubeconfig credentials — or whose path is such a file (`*.key`, `kubeadm.yaml`, `admin.conf`,
 * `.kube/config`, …) — has permissions 0600 or 0400 (0640/0440 only with group root); and every
 * `install` or `chmod` in the node's shell steps that installs such a file (by its path, simple
 * variables expanded) gives it such a mode — `install` without `-m` would make it 0755.
 */
export const secretsNotWorldReadable: PolicyRule = {
  id: ID,
  description: 'Files holding keys, tokens or kubeconfigs are written and installed 0600 (readable by their owner only).',
  check(input) {
    return checkNodeConfigs(input, ID, ({ config, problem }) => {
      const secretPaths = new Set<string>();
      for (const f of writtenFiles(config)) {
        const what = secretInContent(f.content) ?? (isSecretPath(f.path) ? 'secrets (by its path)' : undefined);
        if (what === undefined) continue;
        secretPaths.add(f.path);
        const group = typeof f.owner === 'string' ? (f.owner.split(':')[1] ?? f.owner) : 'root';
        if (typeof f.permissions !== 'string' || !isSecretMode(f.permissions, group)) {
          problem(`user-data write_files ${f.path} holds ${what} but has permissions ${JSON.stringify(f.permissions)}${f.owner !== undefined ? ` (owner ${String(f.owner)})` : ''}; use '0600'`);
        }
      }
      const isSecret = (p: string) => secretPaths.has(p) || isSecretPath(p);
      for (const script of shellScripts(config)) {
        for (const cmd of shellCommands(script.text, ['install', 'chmod'])) {
          const where = `${script.name} line ${cmd.line}: ${cmd.name} ${cmd.args.join(' ')}`;
          if (cmd.name === 'install') {
            const { mode, group, operands, directory } = installArgs(cmd.args);
            if (directory || !operands.some(isSecret)) continue;
            if (mode === undefined) problem(`${where} installs a secret file without -m (install defaults to 0755); use -m 0600`);
            else if (!isSecretMode(mode, group)) problem(`${where} installs a secret file with mode ${mode}; use -m 0600`);
          } else {
            const [mode, ...targets] = cmd.args.filter((a) => !a.startsWith('-'));
            if (targets.some(isSecret) && (mode === undefined || !isSecretMode(mode))) problem(`${where} gives a secret file mode ${mode}; use 0600`);
          }
        }
      }
    });
  },
};

/** The mode, group, operands and `-d` of an `install` command's arguments. */
function installArgs(args: readonly string[]): { mode?: string; group: string; operands: string[]; directory: boolean } {
  const withValue = new Set(['-o', '--owner', '-S', '--suffix']);
  let mode: string | undefined;
  let group = 'root';
  let directory = false;
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-d' || a === '--directory') directory = true;
    else if (a === '-m' || a === '--mode') mode = args[++i];
    else if (a.startsWith('--mode=')) mode = a.slice('--mode='.length);
    else if (/^-m\d/.test(a)) mode = a.slice(2);
    else if (a === '-g' || a === '--group') group = args[++i];
    else if (a === '-t' || a === '--target-directory') operands.push(args[++i]);
    else if (withValue.has(a)) i++;
    else if (!a.startsWith('-')) operands.push(a);
  }
  return { mode, group, operands, directory };
}
