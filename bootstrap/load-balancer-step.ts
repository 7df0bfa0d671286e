import { ClusterPlan } from '../spec';
import { APT_UPDATE_PATH } from './apt-config';
import { haproxyConfigForCluster, HAPROXY_CONFIG_PATH } from './haproxy-config';
import { bakedPackageLines } from './node-image';
import { BootstrapStep } from './private/bootstrap-step';
import { bashScript, shellConst } from './private/shell';
import { VM_PATHS } from './private/vm-paths';

/** The step's name: `/usr/local/sbin/k8s-lab-load-balancer.sh`. */
export const LOAD_BALANCER_STEP = 'load-balancer';

/**
 * The load-balancer VM: installs HAProxy (with spec.image.prebaked: finds it in the node image, no apt), checks the staged haproxy.cfg (haproxyConfigForCluster)
 * with `haproxy -c`, installs it and restarts HAProxy. Nothing else listens on the VM.
 * Idempotent: HAProxy restarts only when its config changed.
 */
export function loadBalancerStep(plan: ClusterPlan): BootstrapStep {
  const prebaked = plan.spec.image.prebaked;
  const body = [
    ...(prebaked ? [] : ['export DEBIAN_FRONTEND=noninteractive']),
    shellConst('staged', VM_PATHS.stagedHaproxyConfig),
    shellConst('live', HAPROXY_CONFIG_PATH),
    '',
    ...(prebaked
      ? bakedPackageLines('haproxy')
      : ['echo "packages: haproxy"', APT_UPDATE_PATH, 'apt-get install -y -q -o Dpkg::Options::=--force-confold haproxy']),
    '',
    'haproxy -c -f "${staged}"',
    'if ! cmp -s "${staged}" "${live}"; then',
    '  echo "haproxy: installing ${live}"',
    '  install -m 0644 "${staged}" "${live}"',
    '  systemctl enable haproxy',
    '  systemctl restart haproxy',
    'fi',
    'systemctl is-active --quiet haproxy',
    `echo "haproxy: active, forwarding :${plan.apiEndpoint.port} to ${plan.controlPlanes.length} control plane(s)"`,
  ];
  return {
    name: LOAD_BALANCER_STEP,
    files: [{ path: VM_PATHS.stagedHaproxyConfig, content: haproxyConfigForCluster(plan), permissions: '0644' }],
    script: bashScript({
      description: [`Runs HAProxy in front of the API servers of cluster ${plan.spec.name}.`, 'Written by k8s-lab cloud-init; idempotent.'],
      body,
    }),
  };
}
