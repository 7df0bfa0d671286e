import * as fs from 'fs';
import * as path from 'path';

/**
 * secret-outputs-private: what synth and deploy write on the host that holds the cluster's secrets
 * — the synthesized stack (cdktf.out/), the secrets folder, the admin kubeconfig, Terraform's state
 * — is readable by its owner only: no group or other permission bit on any of them, or on anything
 * reachable below them (files 0600 in folders 0700; what lies in a folder others cannot enter is safe). Unlike the rules
 * over rendered user-data, this one reads the host's file modes, so `npm run policy` runs it over
 * whatever of those exists when it is called (after `npm run synth` or a deploy).
 */
export const SECRET_OUTPUTS_RULE = 'secret-outputs-private';

/** One path on the host and its mode (the permission bits of `stat`). */
export interface FileModeEntry {
  readonly path: string;
  readonly kind: 'file' | 'directory';
  /** Permission bits, e.g. 0o600. */
  readonly mode: number;
}

/** One secret-bearing output that others can read or enter. */
export interface OutputFinding {
  readonly rule: typeof SECRET_OUTPUTS_RULE;
  readonly file: string;
  readonly message: string;
}

const octal = (m: number) => m.toString(8).padStart(4, '0');

/** The findings for `entries` (pure): every entry with a group or other permission bit set. */
export function secretOutputFindings(entries: readonly FileModeEntry[]): OutputFinding[] {
  return entries
    .filter((e) => (e.mode & 0o077) !== 0)
    .map((e) => ({
      rule: SECRET_OUTPUTS_RULE,
      file: e.path,
      message: `${e.kind} ${e.path} has mode ${octal(e.mode)}, so other users can ${e.kind === 'file' ? 'read' : 'enter'} it; it must be ${e.kind === 'file' ? '0600' : '0700'} (it holds or leads to the cluster's secrets)`,
    }));
}

/** Where one cluster's secret-bearing outputs are. Paths that do not exist are skipped. */
export interface SecretOutputs {
  /** cdktf's output folder (cdktf.out), walked whole. */
  readonly outDir: string;
  /** The cluster's folder in the secrets directory (`<secrets dir>/<cluster>`), walked whole. */
  readonly secretsClusterDir: string;
  /** The admin kubeconfig. */
  readonly kubeconfig: string;
  /** Terraform's local state and its backup. */
  readonly stateFiles: readonly string[];
}

/**
 * The modes of every path of `outputs` that exists and that others could reach, for
 * {@link secretOutputFindings}: folders are walked, but not below a folder that neither group nor
 * others may enter (no x bit for them), since nothing there is reachable — e.g. the 0755 `.terraform/`
 * a bare `cdktf deploy`'s Terraform makes inside the 0700 stack folder.
 * @param options.everything walk below closed folders too (a stricter check: every entry itself private). @default false
 */
export function secretOutputModes(outputs: SecretOutputs, options: { readonly everything?: boolean } = {}): FileModeEntry[] {
  const entries: FileModeEntry[] = [];
  const visit = (p: string, walk: boolean) => {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st || !(st.isFile() || st.isDirectory())) return;
    entries.push({ path: p, kind: st.isDirectory() ? 'directory' : 'file', mode: st.mode & 0o777 });
    const enterable = options.everything === true || (st.mode & 0o011) !== 0;
    if (st.isDirectory() && walk && enterable) for (const name of fs.readdirSync(p).sort()) visit(path.join(p, name), true);
  };
  visit(outputs.outDir, true);
  visit(outputs.secretsClusterDir, true);
  visit(outputs.kubeconfig, false);
  for (const f of outputs.stateFiles) visit(f, false);
  return entries;
}
