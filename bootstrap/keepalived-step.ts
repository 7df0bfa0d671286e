import { ClusterPlan, NodePlan } from '../spec';
import {
  KEEPALIVED_CHECK_SCRIPT_PATH,
  KEEPALIVED_CONFIG_PATH,
  KEEPALIVED_INSTANCE_NAME,
  KEEPALIVED_INTERFACE_FILE,
  KEEPALIVED_INTERFACE_PARAMETER,
  KEEPALIVED_PRIORITIES,
  renderKeepalivedConfig,
  resolveKeepalivedTiming,
} from './keepalived-config';
import { bakedPackageLines } from './node-image';
import { BootstrapStep } from './private/bootstrap-step';
import { renderKeepalivedCheckScript, renderKeepalivedInterfaceScript } from './private/keepalived-scripts';
import { bashScript, shellConst } from './private/shell';

/** The step's name: `/usr/local/sbin/k8s-lab-keepalived.sh`, run after `load-balancer` on both load balancers. */
export const KEEPALIVED_STEP = 'keepalived';

/** keepalived.conf as staged, checked with `keepalived -t` before it replaces the live one. */
export const STAGED_KEEPALIVED_CONFIG_PATH = '/etc/k8s-lab/keepalived/keepalived.conf';
/** The boot-time lookup of the interface holding the node's address (writes KEEPALIVED_INTERFACE_FILE). */
export const KEEPALIVED_INTERFACE_SCRIPT_PATH = '/usr/local/sbin/k8s-lab-keepalived-interface';

/**
 * One of two load balancers (`loadBalancer.count: 2`): installs keepalived (prebaked: the node image's), writes the interface
 * definition its config includes (k8s-lab-keepalived-interface), checks the staged config with
 * `keepalived -t`, installs it and (re)starts keepalived. Runs after the `load-balancer` step, so
 * HAProxy, which the health check goes through, is already up. Idempotent: keepalived restarts
 * only when its config or the interface changed, or it is not running.
 */
export function keepalivedStep(plan: ClusterPlan, node: NodePlan): BootstrapStep {
  const config = renderKeepalivedConfig(plan, node); // validates plan and node
  const timing = resolveKeepalivedTiming();
  const vip = `${plan.apiEndpoint.ip}/${plan.network.prefixLength}`;
  const prebaked = plan.spec.image.prebaked;
  const body = [
    ...(prebaked ? [] : ['export DEBIAN_FRONTEND=noninteractive']),
    shellConst('staged', STAGED_KEEPALIVED_CONFIG_PATH),
    shellConst('live', KEEPALIVED_CONFIG_PATH),
    shellConst('interface_file', KEEPALIVED_INTERFACE_FILE),
    '',
    ...(prebaked ? bakedPackageLines('keepalived') : ['echo "packages: keepalived"', 'apt-get install -y -q -o Dpkg::Options::=--force-confold keepalived']),
    '',
    'interface_before="$(cat "${interface_file}" 2>/dev/null || true)"',
    `${KEEPALIVED_INTERFACE_SCRIPT_PATH} "\${interface_file}"`,
    '',
    '# keepalived -t exits non-zero on any configuration error (and on a missing include or interface).',
    'keepalived -t -f "${staged}"',
    'restart=false',
    'if ! cmp -s "${staged}" "${live}"; then',
    '  echo "keepalived: installing ${live}"',
    '  install -m 0644 "${staged}" "${live}"',
    '  restart=true',
    'fi',
    '[[ "$(cat "${interface_file}")" == "${interface_before}" ]] || restart=true',
    'systemctl is-active --quiet keepalived || restart=true',
    'if [[ "${restart}" == true ]]; then',
    '  systemctl enable keepalived',
    '  systemctl restart keepalived',
    'fi',
    'systemctl is-active --quiet keepalived',
    `echo "keepalived: active, VRRP instance ${KEEPALIVED_INSTANCE_NAME} starts ${node.index === 0 ? 'MASTER' : 'BACKUP'} with priority ${KEEPALIVED_PRIORITIES[node.index]} for ${vip}"`,
  ];
  return {
    name: KEEPALIVED_STEP,
    files: [
      { path: STAGED_KEEPALIVED_CONFIG_PATH, content: config, permissions: '0644' },
      { path: KEEPALIVED_CHECK_SCRIPT_PATH, content: renderKeepalivedCheckScript(node, timing.checkTimeoutSec), permissions: '0755' },
      { path: KEEPALIVED_INTERFACE_SCRIPT_PATH, content: renderKeepalivedInterfaceScript(node, KEEPALIVED_INTERFACE_PARAMETER, KEEPALIVED_INTERFACE_FILE), permissions: '0755' },
    ],
    script: bashScript({
      description: [`Runs keepalived on ${node.hostname}: the API virtual IP ${plan.apiEndpoint.ip} moves to the healthy load balancer.`, 'Written by k8s-lab cloud-init; idempotent.'],
      body,
    }),
  };
}
