import * as YAML from 'yaml';

/**
 * The cloud-config keys the bootstrap uses: only keys that both Debian 12's cloud-init 22.4 (which
 * the tools tier validates with) and the newer cloud-init of Ubuntu 24.04 images know.
 */

/** One `write_files` entry. */
export interface CloudConfigFile {
  /** Absolute path on the VM. */
  readonly path: string;
  /** The file's text. */
  readonly content: string;
  /** Octal mode as a quoted string, e.g. '0600' (cloud-init rejects numbers). */
  readonly permissions: string;
  /** `user:group`. @default 'root:root' (cloud-init's default) */
  readonly owner?: string;
}

/** One `users` entry. */
export interface CloudConfigUser {
  readonly name: string;
  readonly groups: readonly string[];
  readonly shell: string;
  readonly sudo: string;
  readonly lock_passwd: boolean;
  /** Left out when empty: cloud-init's schema wants at least one key. @default - none */
  readonly ssh_authorized_keys?: readonly string[];
}

/** A user-data document (`#cloud-config`). */
export interface CloudConfig {
  readonly hostname: string;
  readonly fqdn: string;
  readonly prefer_fqdn_over_hostname: boolean;
  /** false: /etc/hosts is written by `write_files` (every node of the cluster), not templated. */
  readonly manage_etc_hosts: boolean;
  readonly users: readonly CloudConfigUser[];
  readonly ssh_pwauth: boolean;
  readonly disable_root: boolean;
  readonly package_update: boolean;
  readonly package_upgrade: boolean;
  readonly write_files: readonly CloudConfigFile[];
  /** Commands run once, at the end of the first boot; a list is run without a shell. */
  readonly runcmd: ReadonlyArray<string | readonly string[]>;
}

/** Octal file modes as cloud-init wants them. */
const FILE_MODE = /^0[0-7]{3}$/;

/** Serialises a cloud-config with the `#cloud-config` header. Pure. */
export function renderCloudConfig(config: CloudConfig): string {
  for (const [i, file] of config.write_files.entries()) {
    if (!FILE_MODE.test(file.permissions)) {
      throw new Error(`write_files[${i}].permissions (${file.path}) must be an octal mode string such as '0644', got ${JSON.stringify(file.permissions)}`);
    }
    if (!file.path.startsWith('/')) throw new Error(`write_files[${i}].path must be absolute, got ${JSON.stringify(file.path)}`);
  }
  const paths = config.write_files.map((f) => f.path);
  const duplicate = paths.find((p, i) => paths.indexOf(p) !== i);
  if (duplicate !== undefined) throw new Error(`write_files has two entries for ${duplicate}; each path may be written once`);
  return '#cloud-config\n' + YAML.stringify(config, { lineWidth: 0 });
}
