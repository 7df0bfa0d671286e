import { ClusterPlan } from '../spec';
import { CloudConfigFile } from './cloud-config';
import { etcdClientEndpoints } from './etcd-member-config';
import { requireEtcdSecrets } from './etcd-secrets';
import { BootstrapStep } from './private/bootstrap-step';
import { ETCD_PATHS } from './private/etcd-paths';
import { bashScript, shellConst, shellQuote } from './private/shell';
import { waitBoundSeconds } from './private/wait-scale';
import { ClusterSecrets } from './secrets';

/** The step's name: `/usr/local/sbin/k8s-lab-etcd-client.sh`. */
export const ETCD_CLIENT_STEP = 'etcd-client';

/** How long a control plane waits for the external etcd before `kubeadm init`/`join` (under KVM; see waitBoundSeconds). */
export const ETCD_WAIT_TIMEOUT_SECONDS = 20 * 60;
/** Seconds between two probes. */
export const ETCD_WAIT_INTERVAL_SECONDS = 10;

/**
 * The files every control plane of an external-etcd cluster needs: the etcd CA and the API
 * server's etcd client pair (key 0600), where the kubeadm config's `etcd.external` points.
 * Written by cloud-config on the first and on every joining control plane, so a join never depends
 * on the 2 h kubeadm-certs Secret for them (kubeadm's --upload-certs does carry them too, as
 * external-etcd-ca.crt / external-etcd.crt / external-etcd.key, and writes the same bytes back).
 */
export function etcdClientFiles(plan: ClusterPlan, secrets: ClusterSecrets): CloudConfigFile[] {
  const etcd = requireEtcdSecrets(secrets.etcd, plan.etcdNodes);
  return [
    { path: ETCD_PATHS.clientCaCert, content: etcd.caCertPem, permissions: '0644' },
    { path: ETCD_PATHS.clientCert, content: etcd.apiserverClientCertPem, permissions: '0644' },
    { path: ETCD_PATHS.clientKey, content: etcd.apiserverClientKeyPem, permissions: '0600' },
  ];
}

/**
 * A control plane of an external-etcd cluster, before `kubeadm init`/`join`: writes the etcd client
 * files and waits (bounded) until one etcd member answers `/health` with `"health":"true"` (so the
 * cluster has quorum) over TLS with the API server's own client certificate — the same path
 * kubeadm's preflight (ExternalEtcdVersion) and the kube-apiserver take. Idempotent: only reads.
 */
export function etcdClientStep(plan: ClusterPlan, secrets: ClusterSecrets): BootstrapStep {
  const endpoints = etcdClientEndpoints(plan);
  const body = [
    `endpoints=(${endpoints.map(shellQuote).join(' ')})`,
    shellConst('wait_timeout', waitBoundSeconds(plan, ETCD_WAIT_TIMEOUT_SECONDS)),
    shellConst('wait_interval', ETCD_WAIT_INTERVAL_SECONDS),
    '',
    `chmod 0600 ${ETCD_PATHS.clientKey}`,
    'healthy() {',
    '  local endpoint answer',
    '  for endpoint in "${endpoints[@]}"; do',
    `    if answer="$(curl -fsS --max-time 5 --cacert ${ETCD_PATHS.clientCaCert} --cert ${ETCD_PATHS.clientCert} --key ${ETCD_PATHS.clientKey} "\${endpoint}/health")" && [[ "\${answer}" == *'"health":"true"'* ]]; then`,
    '      echo "etcd: ${endpoint} reports the cluster healthy"',
    '      return 0',
    '    fi',
    '  done',
    '  return 1',
    '}',
    'echo "waiting up to ${wait_timeout} s for the external etcd (${endpoints[*]})"',
    'deadline=$((SECONDS + wait_timeout))',
    'until healthy; do',
    '  if ((SECONDS >= deadline)); then',
    '    echo "timed out after ${wait_timeout} s: no etcd member reported health; are the etcd nodes up (journalctl -u etcd on them)?" >&2',
    '    exit 1',
    '  fi',
    '  sleep "${wait_interval}"',
    'done',
  ];
  return {
    name: ETCD_CLIENT_STEP,
    files: etcdClientFiles(plan, secrets),
    script: bashScript({
      description: [
        `Waits for the external etcd of cluster ${plan.spec.name} before kubeadm runs on this control plane.`,
        'Written by k8s-lab cloud-init; idempotent (reads only).',
      ],
      body,
    }),
  };
}
