import { ClusterPlan, NodePlan } from '../spec';
import { APT_UPDATE_PATH } from './apt-config';
import { CloudConfigFile } from './cloud-config';
import { etcdFirewallRulesForCluster } from './etcd-firewall';
import { etcdMemberConfigInputOf, renderEtcdMemberConfig } from './etcd-member-config';
import { requireEtcdSecrets } from './etcd-secrets';
import { etcdReleaseFor } from './etcd-versions';
import { bakedImageArchive, bakedPackageLines } from './node-image';
import { BootstrapStep, fileOf } from './private/bootstrap-step';
import { ETCD_CLIENT_PORT, ETCD_PATHS } from './private/etcd-paths';
import { bashScript, shellConst } from './private/shell';
import { waitBoundSeconds } from './private/wait-scale';
import { ClusterSecrets } from './secrets';

/** The step's name: `/usr/local/sbin/k8s-lab-etcd-member.sh`. */
export const ETCD_MEMBER_STEP = 'etcd-member';

/** How long a member waits for the cluster to be healthy (its peers boot at the same time; under KVM, see waitBoundSeconds). */
export const ETCD_HEALTH_TIMEOUT_SECONDS = 20 * 60;
/** Seconds between two health probes. */
export const ETCD_HEALTH_INTERVAL_SECONDS = 5;
/** Attempts to pull the etcd image before the step gives up. */
export const ETCD_PULL_ATTEMPTS = 5;

/** The containerd namespace the etcd image is pulled into (kept apart from any Kubernetes images). */
export const ETCD_CONTAINERD_NAMESPACE = 'k8s-lab';

/** The systemd unit that runs the member: etcd reads everything from its config file. */
export function etcdSystemdUnit(plan: ClusterPlan, node: NodePlan): string[] {
  return [
    '# Written by k8s-lab cloud-init.',
    '[Unit]',
    `Description=etcd member ${node.hostname} of cluster ${plan.spec.name} (external etcd)`,
    'Documentation=https://etcd.io/docs/',
    'Wants=network-online.target',
    'After=network-online.target k8s-lab-etcd-firewall.service',
    '',
    '[Service]',
    // notify: systemd knows the member is ready only once it serves; started with --no-block and
    // waited for by the bounded health loop, so a slow quorum never hits a unit timeout.
    'Type=notify',
    `ExecStart=${ETCD_PATHS.binDir}/etcd --config-file ${ETCD_PATHS.config}`,
    'Restart=on-failure',
    'RestartSec=5s',
    'TimeoutStartSec=0',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ];
}

/** The oneshot unit that loads the etcd firewall before etcd starts, on every boot. */
export function etcdFirewallUnit(): string[] {
  return [
    '# Written by k8s-lab cloud-init.',
    '[Unit]',
    'Description=k8s-lab: who may reach etcd (nftables table k8s_lab_etcd)',
    'Before=etcd.service',
    'Wants=network-pre.target',
    'After=network-pre.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=/usr/sbin/nft -f ${ETCD_PATHS.firewallRules}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ];
}

/**
 * An external etcd member (Ubuntu 24.04): its certificates (keys 0600), its config file, a
 * firewall for etcd's ports, the etcd binaries of kubeadm's own etcd image for the cluster's
 * Kubernetes release (pulled by containerd — with spec.image.prebaked imported from the node image's archive
 * instead — copied out of the image, version checked), a systemd
 * unit; then waits, bounded, until `etcdctl endpoint health` with the member's certificate says the
 * cluster has quorum. Idempotent: binaries of the right version are kept, the unit restarts only
 * when its files changed, and an existing data directory makes etcd ignore the initial-cluster.
 */
export function etcdMemberStep(plan: ClusterPlan, node: NodePlan, secrets: ClusterSecrets): BootstrapStep {
  const config = etcdMemberConfigInputOf(plan, node);
  const etcd = requireEtcdSecrets(secrets.etcd, plan.etcdNodes);
  const member = etcd.members[node.hostname];
  const release = etcdReleaseFor(plan.spec.kubernetes.version);
  const files: CloudConfigFile[] = [
    { path: ETCD_PATHS.caCert, content: etcd.caCertPem, permissions: '0644' },
    { path: ETCD_PATHS.serverCert, content: member.serverCertPem, permissions: '0644' },
    { path: ETCD_PATHS.serverKey, content: member.serverKeyPem, permissions: '0600' },
    { path: ETCD_PATHS.peerCert, content: member.peerCertPem, permissions: '0644' },
    { path: ETCD_PATHS.peerKey, content: member.peerKeyPem, permissions: '0600' },
    { path: ETCD_PATHS.config, content: renderEtcdMemberConfig(config), permissions: '0644' },
    fileOf(ETCD_PATHS.unit, etcdSystemdUnit(plan, node), '0644'),
    fileOf(ETCD_PATHS.firewallRules, etcdFirewallRulesForCluster(plan), '0644'),
    fileOf(ETCD_PATHS.firewallUnit, etcdFirewallUnit(), '0644'),
  ];
  const ns = ETCD_CONTAINERD_NAMESPACE;
  const prebaked = plan.spec.image.prebaked;
  // Online: pull kubeadm's etcd image from the registry (bounded retries). Prebaked: import it from the node image.
  const fetchImage = prebaked
    ? [`  echo "etcd image: importing \${etcd_archive} (node image)"`, `  ctr -n ${ns} images import "\${etcd_archive}"`]
    : [
        '  attempt=1',
        `  until ctr -n ${ns} images pull "\${etcd_image}"; do`,
        '    if ((attempt >= pull_attempts)); then',
        '      echo "pulling ${etcd_image} failed ${pull_attempts} times; giving up (is registry.k8s.io reachable?)" >&2',
        '      exit 1',
        '    fi',
        '    attempt=$((attempt + 1))',
        '    sleep 15',
        '  done',
      ];
  const body = [
    ...(prebaked ? [] : ['export DEBIAN_FRONTEND=noninteractive']),
    shellConst('etcd_image', release.image),
    shellConst('etcd_version', release.version),
    shellConst('bin_dir', ETCD_PATHS.binDir),
    prebaked ? shellConst('etcd_archive', bakedImageArchive(release.image)) : shellConst('pull_attempts', ETCD_PULL_ATTEMPTS),
    shellConst('health_timeout', waitBoundSeconds(plan, ETCD_HEALTH_TIMEOUT_SECONDS)),
    shellConst('health_interval', ETCD_HEALTH_INTERVAL_SECONDS),
    shellConst('state_file', '/var/lib/k8s-lab/etcd-units.sha256'),
    '',
    ...(prebaked
      ? [...bakedPackageLines('containerd'), ...bakedPackageLines('nft')]
      : ['echo "packages: containerd (to fetch the etcd image), nftables"', APT_UPDATE_PATH, 'apt-get install -y -q -o Dpkg::Options::=--force-confold containerd nftables']),
    '',
    `echo "firewall: ${ETCD_CLIENT_PORT} from control planes and etcd members, 2380 from etcd members only"`,
    `nft -c -f ${ETCD_PATHS.firewallRules}`,
    'systemctl daemon-reload',
    'systemctl enable k8s-lab-etcd-firewall.service',
    'systemctl restart k8s-lab-etcd-firewall.service',
    '',
    'installed_version() {',
    '  if [[ -x "${bin_dir}/etcd" ]]; then',
    '    "${bin_dir}/etcd" --version | awk \'/^etcd Version:/ {print $3}\'',
    '  fi',
    '}',
    'if [[ "$(installed_version)" != "${etcd_version}" ]]; then',
    '  echo "etcd ${etcd_version}: binaries from ${etcd_image} (the etcd image kubeadm runs for this Kubernetes release)"',
    '  systemctl enable --now containerd',
    ...fetchImage,
    '  rootfs="$(mktemp -d)"',
    `  ctr -n ${ns} images mount "\${etcd_image}" "\${rootfs}"`,
    '  install -m 0755 "${rootfs}/usr/local/bin/etcd" "${rootfs}/usr/local/bin/etcdctl" "${bin_dir}/"',
    `  ctr -n ${ns} images unmount --rm "\${rootfs}"`,
    '  rmdir "${rootfs}"',
    'fi',
    'if [[ "$(installed_version)" != "${etcd_version}" ]]; then',
    '  echo "${bin_dir}/etcd reports version \'$(installed_version)\', expected ${etcd_version}" >&2',
    '  exit 1',
    'fi',
    '',
    `install -d -m 0700 ${ETCD_PATHS.dataDir}`,
    `chmod 0600 ${ETCD_PATHS.serverKey} ${ETCD_PATHS.peerKey}`,
    `want="$(cat ${ETCD_PATHS.config} ${ETCD_PATHS.unit} ${ETCD_PATHS.caCert} ${ETCD_PATHS.serverCert} ${ETCD_PATHS.peerCert} | sha256sum)"`,
    'systemctl daemon-reload',
    'systemctl enable etcd.service',
    'if ! systemctl is-active --quiet etcd.service; then',
    '  echo "etcd: starting member (it waits for its peers to form a quorum)"',
    '  systemctl start --no-block etcd.service',
    'elif [[ "$(cat "${state_file}" 2>/dev/null)" != "${want}" ]]; then',
    '  echo "etcd: configuration changed, restarting member"',
    '  systemctl restart --no-block etcd.service',
    'fi',
    'install -d -m 0755 "$(dirname "${state_file}")"',
    'printf \'%s\\n\' "${want}" > "${state_file}"',
    '',
    'etcdctl_() {',
    `  "\${bin_dir}/etcdctl" --endpoints https://127.0.0.1:${ETCD_CLIENT_PORT} --cacert ${ETCD_PATHS.caCert} --cert ${ETCD_PATHS.serverCert} --key ${ETCD_PATHS.serverKey} "$@"`,
    '}',
    'echo "waiting up to ${health_timeout} s for the etcd cluster to be healthy"',
    'deadline=$((SECONDS + health_timeout))',
    'until etcdctl_ --command-timeout 5s endpoint health; do',
    '  if ((SECONDS >= deadline)); then',
    '    echo "timed out after ${health_timeout} s: etcd is not healthy (journalctl -u etcd; are the other members up?)" >&2',
    '    exit 1',
    '  fi',
    '  sleep "${health_interval}"',
    'done',
    'etcdctl_ member list -w table',
  ];
  return {
    name: ETCD_MEMBER_STEP,
    files,
    script: bashScript({
      description: [
        `Runs the external etcd member ${node.hostname} of cluster ${plan.spec.name} (etcd ${release.version}).`,
        'Written by k8s-lab cloud-init; idempotent: safe to run again.',
      ],
      body,
    }),
  };
}
