import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { CloudConfig, NODE_IMAGE_PATHS } from '../../bootstrap';
import { shellQuote } from '../../bootstrap/private/shell';

/**
 * Runs a rendered bootstrap script, unchanged, against a fake node: a private mount namespace (`unshare --user
 * --map-root-user --mount`, no root needed where user namespaces are allowed) in which a fake /etc, /opt,
 * /sys/module and /home are bind-mounted over the real ones, and stub commands come first on PATH. The script's absolute
 * paths (/etc/containerd, /opt/k8s-lab/images, /sys/module/<name>) are the ones it uses on a node; nothing in it is
 * rewritten. What it writes under /etc, /opt, /home and /sys/module lands in the fake trees (a temporary directory);
 * /var, /root, /run, /srv and /mnt are empty tmpfs, thrown away with the namespace; /usr is read-only. The rest
 * (/tmp, the checkout) is the real file system: a script or stub effect must not write there.
 *
 * Stubs (each appends `name args…` to a call log):
 *  - kubeadm / kubelet / kubectl print the versions the test gives;
 *  - ctr, systemctl, swapoff, modprobe, apt-get, apt-mark, curl, gpg only record (modprobe can be told to fail;
 *    gpg creates the file it is given with -o, which the online path then moves);
 *  - containerd --version prints input.containerdVersion, as a distribution's package does;
 *  - sysctl reads and writes a fake table: `sysctl -n KEY` prints it (fails for a key not in the table), and
 *    `sysctl -q -w KEY=VALUE` fails for keys the test marks read-only or that are absent;
 *  - any stub fails (exit 1) for a call input.failingCalls names; sleep returns at once when input.instantSleep;
 *  - uname -r prints FAKE_KERNEL_RELEASE, a release with no /lib/modules directory on any machine, so the script's
 *    "no /lib/modules/<release>" branch is what runs for a module missing from the fake /sys/module.
 */

/** What `uname -r` says on the fake node. */
export const FAKE_KERNEL_RELEASE = '0.0.0-k8s-lab-fake-node';

/** The fake node's state before the script runs. */
export interface FakeNodeInput {
  /**
   * The node's rendered user-data: every write_files entry under /etc and /usr/local/sbin is written into the fake
   * /etc and /usr/local/sbin (as cloud-init would).
   */
  readonly userData: string;
  /** The write_files path of the script to run, e.g. /usr/local/sbin/k8s-lab-prepare-node.sh. */
  readonly script: string;
  /**
   * The version `containerd --version` prints (its third field), as a distribution's package does, e.g. 1.7.24.
   * @default '1.7.24' (a 1.7, as Ubuntu 24.04 ships)
   */
  readonly containerdVersion?: string;
  /** What the baked binaries print as their version, e.g. v1.36.3. */
  readonly versions: { readonly kubeadm: string; readonly kubelet: string; readonly kubectl: string };
  /** Real binaries to run instead of a version stub (the call is still recorded), e.g. { kubectl: '.tools/bin/kubectl' }. @default none */
  readonly realBinaries?: Partial<Record<'kubeadm' | 'kubelet' | 'kubectl', string>>;
  /** File names of the image archives in /opt/k8s-lab/images. */
  readonly archives: readonly string[];
  /** Kernel modules present in /sys/module (loaded or built in). */
  readonly modules: readonly string[];
  /** Modules for which modprobe fails. @default none */
  readonly modprobeFails?: readonly string[];
  /** The sysctl table: key → current value. A key not here does not exist on the node. */
  readonly sysctls: Readonly<Record<string, string>>;
  /** Keys that cannot be written (a read-only /proc/sys). @default none */
  readonly readOnlySysctls?: readonly string[];
  /**
   * Stub calls that fail (exit 1), by the start of `name args…` (e.g. `kubeadm join`), each with how many of its
   * calls fail before it works again, or `always`. @default none
   */
  readonly failingCalls?: Readonly<Record<string, number | 'always'>>;
  /** `sleep` only records its argument and returns at once (a retry loop's waits take no time). @default false */
  readonly instantSleep?: boolean;
  /** More files in the fake /etc, by absolute path: what an earlier run left, e.g. /etc/kubernetes/kubelet.conf. @default none */
  readonly etcFiles?: Readonly<Record<string, string>>;
  /** Files in the fake /opt, by absolute path: what the node image bakes, e.g. its CNI manifest. @default none */
  readonly optFiles?: Readonly<Record<string, string>>;
  /** Bash lines a stub runs after it recorded the call (and did not fail it), before its usual work, e.g. what
   * `kubeadm reset` does to the node. @default none */
  readonly stubEffects?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The input for a step that asks nothing of the node image (join-node, init-control-plane): no versions to report,
 * no archives, modules or sysctls, and `sleep` returning at once so retry loops take no time.
 */
export function stepNodeInput(userData: string, script: string): FakeNodeInput {
  return { userData, script, versions: { kubeadm: 'v0', kubelet: 'v0', kubectl: 'v0' }, archives: [], modules: [], sysctls: {}, instantSleep: true };
}

/** How the script ended, what it printed, what it called, and the fake node's files afterwards. */
export interface FakeNodeRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** One entry per stub call: `name arg1 arg2 …`. */
  readonly calls: readonly string[];
  /** The fake /etc after the run. */
  readonly etcDir: string;
  /** The sysctl table after the run. */
  readonly sysctls: Readonly<Record<string, string>>;
}

/** A temporary fake node; `run` may be called more than once (state carries over), `remove` deletes it. */
export class FakeNode {
  readonly dir: string;
  private readonly log: string;
  private readonly sysctlDir: string;

  constructor(private readonly input: FakeNodeInput) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-node-'));
    this.log = path.join(this.dir, 'calls.log');
    this.sysctlDir = path.join(this.dir, 'sysctl');
    fs.writeFileSync(this.log, '');
    this.layOut();
  }

  /** Runs the script once in the fake node's namespace. */
  run(): FakeNodeRun {
    const d = (sub: string) => path.join(this.dir, sub);
    const imageRoot = NODE_IMAGE_PATHS.root;
    if (!imageRoot.startsWith('/opt/')) throw new Error(`the fake node mounts a fake /opt; NODE_IMAGE_PATHS.root moved to ${imageRoot}`);
    const setup = [
      'set -euo pipefail',
      `mount --bind ${d('etc')} /etc`,
      `mount --bind ${d('opt')} /opt`,
      `mount --bind ${d('sys-module')} /sys/module`,
      `if [[ -d /home ]]; then mount --bind ${d('home')} /home; fi`,
      // What the fake trees do not cover: empty and thrown away (state and runtime folders), or read-only (programs).
      ...['/var', '/root', '/run', '/srv', '/mnt'].map((dir) => `if [[ -d ${dir} ]]; then mount -t tmpfs -o size=16m tmpfs ${dir}; fi`),
      'mount --bind /usr /usr',
      'mount -o remount,bind,ro /usr',
      `mount --bind ${d('local-sbin')} /usr/local/sbin`,
      `exec /bin/bash ${d('script.sh')}`,
    ].join('\n');
    // write_files under /usr/local/sbin land in a folder bound over the host's: it must exist (Debian's base-files makes it).
    if (!fs.existsSync('/usr/local/sbin')) throw new Error("the fake node binds its /usr/local/sbin over this host's, which has none");
    const before = this.calls().length;
    const run = spawnSync('unshare', ['--user', '--map-root-user', '--mount', '--propagation', 'private', '/bin/bash', '-c', setup], {
      encoding: 'utf8',
      // stdin from /dev/null: given a socket (node's pipes are socketpairs), bash would take itself for a remote
      // shell and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: `${d('stubs')}:/usr/sbin:/usr/bin:/sbin:/bin`, LANG: 'C', HOME: this.dir },
      timeout: 30_000,
    });
    if (run.error) throw new Error(`could not run the script in a fake node (unshare from util-linux, with user namespaces, is needed): ${run.error.message}`);
    if (/unshare: /.test(run.stderr) && run.status !== 0) throw new Error(`unshare could not make the fake node's namespace: ${run.stderr.trim()}`);
    const sysctls: Record<string, string> = {};
    for (const f of fs.readdirSync(this.sysctlDir).filter((f) => !f.endsWith('.readonly'))) sysctls[f] = fs.readFileSync(path.join(this.sysctlDir, f), 'utf8').trim();
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, calls: this.calls().slice(before), etcDir: d('etc'), sysctls };
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private calls(): string[] {
    return fs.readFileSync(this.log, 'utf8').split('\n').filter((l) => l !== '');
  }

  private layOut(): void {
    const { input } = this;
    const d = (...sub: string[]) => path.join(this.dir, ...sub);
    for (const sub of ['etc', 'opt', 'sys-module', 'home', 'stubs', 'sysctl', 'local-sbin']) fs.mkdirSync(d(sub));

    // cloud-init's write_files, for the files the script reads from /etc; and the script itself.
    const config = YAML.parse(input.userData) as CloudConfig;
    const scriptFile = config.write_files.find((f) => f.path === input.script);
    if (!scriptFile) throw new Error(`the user-data writes no ${input.script}`);
    fs.writeFileSync(d('script.sh'), scriptFile.content, { mode: 0o755 });
    for (const f of config.write_files.filter((f) => f.path.startsWith('/etc/') || f.path.startsWith('/usr/local/sbin/'))) {
      const target = f.path.startsWith('/etc/') ? d('etc', f.path.slice('/etc/'.length)) : d('local-sbin', f.path.slice('/usr/local/sbin/'.length));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, f.content, { mode: parseInt(f.permissions, 8) });
    }
    // The node's users: root, and the cloud image's ubuntu, as uid 0 too (the namespace maps no other uid), so
    // `install -o ubuntu` works; its home is the fake /home.
    fs.writeFileSync(d('etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\nubuntu:x:0:0:Ubuntu:/home/ubuntu:/bin/bash\n');
    fs.writeFileSync(d('etc', 'group'), 'root:x:0:\nubuntu:x:0:\n');
    fs.mkdirSync(d('home', 'ubuntu'));
    for (const [root, files] of [['/etc/', input.etcFiles], ['/opt/', input.optFiles]] as const) {
      for (const [file, content] of Object.entries(files ?? {})) {
        if (!file.startsWith(root) || path.posix.normalize(file) !== file) throw new Error(`${root.slice(1, -1)}Files: ${file} is not a plain path under ${root}`);
        const target = d(root.slice(1, -1), file.slice(root.length));
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, content);
      }
    }

    // Debian's alternatives (awk → mawk, …) live in /etc: the fake /etc keeps the same symlinks.
    if (fs.existsSync('/etc/alternatives')) fs.cpSync('/etc/alternatives', d('etc', 'alternatives'), { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(d('etc', 'apt', 'sources.list.d'), { recursive: true });
    fs.writeFileSync(d('etc', 'fstab'), ['# <file system> <mount point> <type> <options> <dump> <pass>', 'UUID=1 / ext4 defaults 0 1', '/swap.img none swap sw 0 0', ''].join('\n'));

    // The node image's archives (their content is the ctr stub's business: it only records).
    const imageDir = d('opt', path.relative('/opt', NODE_IMAGE_PATHS.imageDir));
    fs.mkdirSync(imageDir, { recursive: true });
    for (const a of input.archives) fs.writeFileSync(path.join(imageDir, a), `fake archive ${a}\n`);

    for (const m of input.modules) fs.mkdirSync(d('sys-module', m));
    for (const [key, value] of Object.entries(input.sysctls)) fs.writeFileSync(d('sysctl', key), `${value}\n`);
    for (const key of input.readOnlySysctls ?? []) fs.writeFileSync(d('sysctl', `${key}.readonly`), '');

    const record = `printf '%s\\n' "$(basename "$0") $*" >> ${this.log}`;
    // A call that starts like one of input.failingCalls fails, after it was recorded, as many times as it says.
    const failing = Object.entries(input.failingCalls ?? {}).flatMap(([prefix, times], k) => [
      `if [[ "$(basename "$0") $*" == ${shellQuote(prefix)}* ]]; then`,
      `  failed=$(cat ${d(`failed-${k}`)} 2>/dev/null || echo 0)`,
      `  if ${times === 'always' ? 'true' : `((failed < ${times}))`}; then`,
      `    echo $((failed + 1)) > ${d(`failed-${k}`)}`,
      '    echo "fake node: $(basename "$0") $* fails" >&2',
      '    exit 1',
      '  fi',
      'fi',
    ]);
    const stubbed = new Set<string>();
    const stub = (name: string, body: string[]) => {
      stubbed.add(name);
      fs.writeFileSync(d('stubs', name), ['#!/bin/bash', record, ...failing, ...(input.stubEffects?.[name] ?? []), ...body, ''].join('\n'), { mode: 0o755 });
    };
    if (input.instantSleep) stub('sleep', ['exit 0']);
    const v = input.versions;
    const real = input.realBinaries ?? {};
    for (const [name, binary] of Object.entries(real)) stub(name, [`exec ${path.resolve(binary)} "$@"`]);
    if (!real.kubeadm) stub('kubeadm', ['if [[ "$*" == "version -o short" ]]; then echo ' + v.kubeadm + '; fi']);
    if (!real.kubelet) stub('kubelet', ['if [[ "$*" == "--version" ]]; then echo "Kubernetes ' + v.kubelet + '"; fi']);
    if (!real.kubectl) stub('kubectl', [
      'if [[ "$*" == "version --client -o json" ]]; then',
      `  printf '%s\\n' '{' '  "clientVersion": {' '    "major": "1",' '    "gitVersion": "${v.kubectl}",' '    "platform": "linux/amd64"' '  },' '  "kustomizeVersion": "v5.7.1"' '}'`,
      'fi',
    ]);
    for (const name of ['ctr', 'systemctl', 'swapoff', 'apt-get', 'apt-mark', 'curl']) stub(name, ['exit 0']);
    stub('containerd', [`if [[ "$*" == --version ]]; then echo ${shellQuote(`containerd github.com/containerd/containerd ${input.containerdVersion ?? '1.7.24'} `)}; fi`]);
    // gpg --dearmor -o FILE: the online path moves FILE into place afterwards.
    stub('gpg', ['while (($#)); do if [[ "$1" == -o ]]; then : > "$2"; shift; fi; shift; done', 'exit 0']);
    const fails = (input.modprobeFails ?? []).join(' ');
    stub('modprobe', [`for m in ${fails}; do [[ "$1" == "$m" ]] && { echo "modprobe: FATAL: Module $1 not found" >&2; exit 1; }; done`, 'exit 0']);
    stub('uname', [`[[ "$1" == -r ]] && echo ${FAKE_KERNEL_RELEASE}`, 'exit 0']);
    stub('sysctl', [
      `table=${this.sysctlDir}`,
      'if [[ "$1" == -n ]]; then',
      '  [[ -f "${table}/$2" ]] || { echo "sysctl: cannot stat /proc/sys/${2//.//}: No such file or directory" >&2; exit 255; }',
      '  cat "${table}/$2"',
      'elif [[ "$1" == -q && "$2" == -w ]]; then',
      '  key="${3%%=*}" value="${3#*=}"',
      '  if [[ ! -f "${table}/${key}" || -f "${table}/${key}.readonly" ]]; then',
      '    echo "sysctl: permission denied on key \\"${key}\\"" >&2',
      '    exit 255',
      '  fi',
      '  echo "${value}" > "${table}/${key}"',
      'else',
      '  echo "fake sysctl: unexpected arguments: $*" >&2',
      '  exit 2',
      'fi',
    ]);
    for (const name of Object.keys(input.stubEffects ?? {})) {
      if (!stubbed.has(name)) throw new Error(`stubEffects: ${JSON.stringify(name)} is no command this fake node stubs (it stubs ${[...stubbed].sort().join(', ')})`);
    }
  }
}
