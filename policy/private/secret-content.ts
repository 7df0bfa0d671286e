/** What in a file's content shows that it holds key material or a credential. */
const SECRET_CONTENT: readonly { readonly what: string; readonly pattern: RegExp }[] = [
  { what: 'a private key', pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/ },
  // kubeadm's token format, not part of a longer dotted name.
  { what: 'a bootstrap token', pattern: /(?<![a-z0-9.-])[a-z0-9]{6}\.[a-z0-9]{16}(?![a-z0-9.-])/ },
  { what: 'a certificateKey', pattern: /\bcertificateKey\s*:/ },
  { what: 'kubeconfig credentials', pattern: /\bclient-key-data\s*:/ },
];

/** Files that hold secrets by what they are, whatever their content: keys, kubeconfigs, the kubeadm config. */
const SECRET_PATH = /(\.key|\/kubeadm\.yaml|\/(super-)?admin\.conf|\/kubelet\.conf|\/controller-manager\.conf|\/scheduler\.conf|\/\.kube\/config|\/secrets\.json)$/;

/** What secret `content` holds, or undefined when it shows none. */
export function secretInContent(content: string): string | undefined {
  return SECRET_CONTENT.find((s) => s.pattern.test(content))?.what;
}

/** True when `path` names a file that holds secrets by its nature. */
export function isSecretPath(path: string): boolean {
  return SECRET_PATH.test(path);
}

/** Modes a secret file may have: no access for others, and for the group only when the group is root. */
export function isSecretMode(mode: string, group = 'root'): boolean {
  const m = /^0?([0-7])([0-7])([0-7])$/.exec(mode);
  if (!m) return false;
  const [, , g, o] = m;
  return o === '0' && (g === '0' || (g === '4' && group === 'root'));
}
