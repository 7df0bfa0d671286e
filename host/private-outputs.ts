import * as fs from 'fs';
import * as path from 'path';

/**
 * What synth and deploy leave on the host that holds the cluster's secrets (the seed images beside
 * the stack JSON hold each node's user-data: the CA key, the bootstrap token, the certificate key;
 * Terraform's state describes the VMs; the kubeconfig is cluster-admin), and how they are kept private: files 0600 in folders 0700, however cdktf was
 * started (`npm run deploy`, or a bare `cdktf synth`/`cdktf deploy`, which runs main.ts too).
 */

/** The umask the app and scripts/cdktf.sh set before writing: new files 0600, new folders 0700. */
export const PRIVATE_UMASK = 0o077;

/** cdktf's default local state of the stack `stackName` (the backend path it synthesizes), and its backup. */
export function stateFilesOf(stackName: string, projectDir: string = process.cwd()): string[] {
  return [`terraform.${stackName}.tfstate`, `terraform.${stackName}.tfstate.backup`].map((f) => path.resolve(projectDir, f));
}

/**
 * Takes every group and other permission away below `dir` (and from `dir`): files become at most
 * 0700 and folders 0700, owner bits unchanged, so the provider binary `terraform init` may copy into
 * `.terraform/` stays executable. Files written before the app set its umask keep their old mode on
 * overwrite; this is what brings them in line. Symbolic links are not followed.
 */
export function restrictTree(dir: string): void {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!st || !st.isDirectory()) return;
  restrictMode(dir, st.mode);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) restrictTree(p);
    else if (e.isFile()) restrictMode(p, fs.statSync(p).mode);
  }
}

/** chmod only when group or other has a bit: a tree that is already private may be read-only or another's. */
function restrictMode(p: string, mode: number): void {
  if ((mode & 0o077) !== 0) fs.chmodSync(p, mode & 0o700);
}

/** What a cdktf app writes into its output folder: the manifest and one folder per stack. */
export const CDKTF_OUTPUT_ENTRIES: readonly string[] = ['manifest.json', 'stacks'];

/**
 * restrictTree for what the cdktf app wrote into `outdir` (CDKTF_OUTPUT_ENTRIES) and nothing else: an
 * output folder given by hand (K8S_LAB_CDKTF_OUT, `cdktf synth --output`) may be a folder of the user's
 * that holds other files, whose modes are not synth's to change. The folder itself is made 0700 only
 * when it holds nothing but the app's output.
 */
export function restrictCdktfOutput(outdir: string): void {
  const entries = fs.readdirSync(outdir);
  for (const e of entries) if (CDKTF_OUTPUT_ENTRIES.includes(e)) restrictEntry(path.join(outdir, e));
  if (entries.every((e) => CDKTF_OUTPUT_ENTRIES.includes(e))) restrictMode(outdir, fs.statSync(outdir).mode);
}

function restrictEntry(p: string): void {
  const st = fs.lstatSync(p);
  if (st.isDirectory()) restrictTree(p);
  else if (st.isFile()) restrictMode(p, st.mode);
}

/**
 * Terraform's local state files, private before Terraform writes them. Terraform's local backend
 * opens an existing state file and rewrites it in place, so the mode a file has is the mode it
 * keeps; an empty file is read as "no state yet". So: an absent file is created empty with 0600,
 * an existing one is made 0600. A bare `cdktf deploy` (whose Terraform runs with the user's umask)
 * then never writes the state world-readable. (Checked against the real Terraform in
 * __tests__/tools/private-outputs.test.ts.)
 */
export function prepareStateFiles(files: readonly string[]): void {
  for (const f of files) {
    if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
    else fs.writeFileSync(f, '', { mode: 0o600, flag: 'wx' });
  }
}
