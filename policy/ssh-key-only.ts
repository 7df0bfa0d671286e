import { PolicyRule } from './policy-rule';
import { checkNodeConfigs } from './private/rendered-nodes';

const ID = 'ssh-key-only';

/** Keys that set or enable a password, wherever they appear in a cloud-config. */
const PASSWORD_KEYS = ['passwd', 'plain_text_passwd', 'hashed_passwd', 'password', 'chpasswd'];

/**
 * ssh-key-only: nobody logs in with a password. Every node's user-data sets `ssh_pwauth: false`
 * and `disable_root: true`, declares each user as a mapping with `lock_passwd: true`, and has no
 * password key anywhere (`passwd`, `plain_text_passwd`, `hashed_passwd`, `password`, `chpasswd`).
 */
export const sshKeyOnly: PolicyRule = {
  id: ID,
  description: 'Every node accepts SSH keys only: no password login, root login disabled, every user locked, no password set.',
  check(input) {
    return checkNodeConfigs(input, ID, ({ config, problem }) => {
      if (config.ssh_pwauth !== false) problem(`user-data ssh_pwauth must be false, got ${JSON.stringify(config.ssh_pwauth)}`);
      if (config.disable_root !== true) problem(`user-data disable_root must be true, got ${JSON.stringify(config.disable_root)}`);
      const users = Array.isArray(config.users) ? (config.users as unknown[]) : [];
      users.forEach((user, i) => {
        if (user === null || typeof user !== 'object') {
          problem(`user-data users[${i}] must be a mapping with lock_passwd: true, got ${JSON.stringify(user)}`);
        } else if ((user as Record<string, unknown>).lock_passwd !== true) {
          problem(`user-data users[${i}].lock_passwd must be true, got ${JSON.stringify((user as Record<string, unknown>).lock_passwd)}`);
        }
      });
      for (const where of passwordKeys(config)) problem(`user-data ${where} sets a password; use SSH keys (ssh.authorizedKeys) only`);
    });
  },
};

/** Where password keys are in a parsed document, e.g. `users[0].plain_text_passwd`. */
function passwordKeys(value: unknown, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => passwordKeys(v, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
    const path = at === '' ? key : `${at}.${key}`;
    return [...(PASSWORD_KEYS.includes(key) ? [path] : []), ...passwordKeys(v, path)];
  });
}
