import { CloudConfigFile } from './cloud-config';
import { fileOf } from './private/bootstrap-step';
import { bashScript, shellConst } from './private/shell';

/**
 * How a node that installs from the network (not image.prebaked) uses apt at first boot, when a cloud
 * image's own apt jobs may run too: apt-daily refreshes the lists, unattended-upgrades installs updates.
 * Either holds a lock that a plain `apt-get` fails on at once, and a bootstrap step that fails stops the
 * runner for good (cloud-init runs it once per instance).
 */

/** apt's configuration drop-in, read by every apt-get (cloud-init's own `package_update` included). */
export const APT_CONFIG_PATH = '/etc/apt/apt.conf.d/80-k8s-lab';
/** The script every step runs instead of `apt-get update`. */
export const APT_UPDATE_PATH = '/usr/local/sbin/k8s-lab-apt-update';

/** Seconds apt-get waits for dpkg's lock (unattended-upgrades) before it fails. */
export const APT_LOCK_TIMEOUT_SECONDS = 600;
/** Times apt retries a failed download. */
export const APT_DOWNLOAD_RETRIES = 5;
/** `apt-get update` attempts before the update script gives up, and the seconds between two. */
export const APT_UPDATE_ATTEMPTS = 10;
export const APT_UPDATE_RETRY_SECONDS = 30;

/** The lines of the apt drop-in: wait for dpkg's lock, retry downloads. */
export function aptConfigLines(): string[] {
  return [
    '// Written by k8s-lab cloud-init. At first boot unattended-upgrades may hold dpkg\'s lock while the bootstrap',
    '// installs packages: apt-get waits for it instead of failing, and retries a failed download.',
    `DPkg::Lock::Timeout "${APT_LOCK_TIMEOUT_SECONDS}";`,
    `Acquire::Retries "${APT_DOWNLOAD_RETRIES}";`,
  ];
}

/**
 * The update script: `apt-get update` until every source was read (`--error-on=any`: a source that failed is an
 * error, not stale lists that fail the install later), a bounded number of times. It covers what the drop-in does
 * not: the lists lock apt-daily holds, and a mirror that fails for a moment.
 */
export function aptUpdateScript(): string {
  return bashScript({
    description: ['apt-get update, again until every source was read (at most a bounded number of times).', 'Written by k8s-lab cloud-init; safe to run again.'],
    body: [
      shellConst('attempts', APT_UPDATE_ATTEMPTS),
      shellConst('retry_seconds', APT_UPDATE_RETRY_SECONDS),
      'attempt=1',
      'until apt-get update -q --error-on=any; do',
      '  if ((attempt >= attempts)); then',
      '    echo "apt-get update failed ${attempts} times; giving up (a source above could not be read)" >&2',
      '    exit 1',
      '  fi',
      '  echo "apt-get update failed (attempt ${attempt} of ${attempts}: a lock held, or a source unreadable); again in ${retry_seconds} s" >&2',
      '  attempt=$((attempt + 1))',
      '  sleep "${retry_seconds}"',
      'done',
    ],
  });
}

/** The files a node that installs from the network gets: the apt drop-in and the update script. */
export function aptFiles(): CloudConfigFile[] {
  return [fileOf(APT_CONFIG_PATH, aptConfigLines(), '0644'), { path: APT_UPDATE_PATH, content: aptUpdateScript(), permissions: '0755' }];
}
