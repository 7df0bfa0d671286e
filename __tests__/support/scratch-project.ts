import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './tools';

/** What a scratch copy leaves out: dependencies, git, tools, every output, secrets and a user's spec. */
const NOT_COPIED = ['node_modules', '.git', '.tools', 'cdktf.out', 'dist', 'rendered', '.secrets', 'cluster.yaml'];
/** And by name: admin kubeconfigs (credentials) and Terraform state with its backups (secrets in clear). */
const NOT_COPIED_NAMES = /\.kubeconfig$|\.tfstate(\.|$)/;

/**
 * A scratch copy of the project in a new temporary folder named `<prefix>…`: the sources only, with
 * node_modules linked, so a test can edit files or break a synth without touching the checkout.
 * The caller removes the folder.
 * @param from the project copied (its own tests give a small one) @default the checkout
 */
export function scratchProjectCopy(prefix: string, from: string = ROOT): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const entry of fs.readdirSync(from)) {
    if (NOT_COPIED.includes(entry) || NOT_COPIED_NAMES.test(entry)) continue;
    fs.cpSync(path.join(from, entry), path.join(work, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(from, 'node_modules'), path.join(work, 'node_modules'));
  return work;
}
