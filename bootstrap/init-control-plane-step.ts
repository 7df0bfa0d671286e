import { API_SERVER_PORT, ClusterPlan, NodePlan } from '../spec';
import { cniInstall } from './cni-install';
import { CloudConfigFile } from './cloud-config';
import { kubeadmCommand } from './kubeadm-config';
import { bakedCniManifest } from './node-image';
import { BootstrapStep } from './private/bootstrap-step';
import { bashScript, shellConst, shellQuote } from './private/shell';
import { VM_PATHS } from './private/vm-paths';
import { ClusterSecrets } from './secrets';

/** The step's name: `/usr/local/sbin/k8s-lab-init-control-plane.sh`. */
export const INIT_CONTROL_PLANE_STEP = 'init-control-plane';

/** `kubeadm init` attempts before the step gives up (`kubeadm reset -f` between two). */
export const INIT_ATTEMPTS = 3;
/** Attempts of `kubectl apply` of the CNI (the API server may still be settling). */
export const CNI_APPLY_ATTEMPTS = 10;

/**
 * The first control plane: installs the cluster CA (so the CA hash the joins pin is known at synth
 * time), runs `kubeadm init --config … --upload-certs` (the certificate key is in the config),
 * installs the CNI once (its pinned manifest downloaded, or with spec.image.prebaked copied from the node image; the
 * same kustomization sets the pod network either way), and gives the `ubuntu` user the admin kubeconfig. Idempotent: an
 * initialised node (admin.conf present) skips `kubeadm init`; the CNI apply is declarative.
 */
export function initControlPlaneStep(plan: ClusterPlan, node: NodePlan, secrets: ClusterSecrets): BootstrapStep {
  const cni = cniInstall(plan);
  const files: CloudConfigFile[] = [
    { path: VM_PATHS.stagedCaCert, content: secrets.caCertPem, permissions: '0644' },
    { path: VM_PATHS.stagedCaKey, content: secrets.caKeyPem, permissions: '0600' },
    ...cni.files,
  ];
  const manifest = `${VM_PATHS.cniDir}/${cni.manifestFile}`;
  const { cni: cniName, podCidr } = plan.spec.kubernetes;
  const baked = plan.spec.image.prebaked ? bakedCniManifest(cniName) : undefined;
  // The manifest the kustomization reads: downloaded from the pinned release, or copied from the node image.
  const fetchManifest =
    baked === undefined
      ? [
          `echo "CNI: ${cniName} from \${cni_manifest_url}, pod network ${podCidr}"`,
          'if [[ ! -s "${cni_manifest}" ]]; then',
          '  curl -fsSL --retry 5 --retry-delay 5 -o "${cni_manifest}.tmp" "${cni_manifest_url}"',
          '  mv "${cni_manifest}.tmp" "${cni_manifest}"',
          'fi',
        ]
      : [
          `echo "CNI: ${cniName} from the node image (\${cni_manifest_baked}), pod network ${podCidr}"`,
          'if [[ ! -s "${cni_manifest_baked}" ]]; then',
          '  echo "${cni_manifest_baked} is missing: is this the k8s-lab node image? (image.prebaked is true)" >&2',
          '  exit 1',
          'fi',
          'if ! cmp -s "${cni_manifest_baked}" "${cni_manifest}"; then',
          '  install -m 0644 "${cni_manifest_baked}" "${cni_manifest}"',
          'fi',
        ];
  const body = [
    shellConst('attempts', INIT_ATTEMPTS),
    shellConst('cni_attempts', CNI_APPLY_ATTEMPTS),
    baked === undefined ? shellConst('cni_manifest_url', cni.manifestUrl) : shellConst('cni_manifest_baked', baked),
    shellConst('cni_manifest', manifest),
    shellConst('cni_dir', VM_PATHS.cniDir),
    shellConst('local_api', `https://${node.ip}:${API_SERVER_PORT}`),
    '',
    '# The cluster CA from .secrets/, installed before every attempt: `kubeadm reset` deletes it.',
    'install_ca() {',
    `  install -d -m 0755 ${VM_PATHS.kubernetesCaCert.replace(/\/[^/]+$/, '')}`,
    `  install -m 0644 ${VM_PATHS.stagedCaCert} ${VM_PATHS.kubernetesCaCert}`,
    `  install -m 0600 ${VM_PATHS.stagedCaKey} ${VM_PATHS.kubernetesCaKey}`,
    '}',
    '',
    `if [[ -f ${VM_PATHS.adminKubeconfig} ]]; then`,
    `  echo "kubeadm init: already done (${VM_PATHS.adminKubeconfig} exists)"`,
    'else',
    '  attempt=1',
    '  while :; do',
    '    install_ca',
    '    echo "kubeadm init: attempt ${attempt} of ${attempts}"',
    `    if ${kubeadmCommand(node).map(shellQuote).join(' ')}; then`,
    '      break',
    '    fi',
    '    if ((attempt >= attempts)); then',
    '      echo "kubeadm init failed ${attempts} times; giving up (journalctl -u kubelet, crictl ps -a)" >&2',
    '      exit 1',
    '    fi',
    '    echo "kubeadm init failed; kubeadm reset -f, then again in 30 s"',
    '    kubeadm reset -f || echo "kubeadm reset -f failed; trying init anyway" >&2',
    '    attempt=$((attempt + 1))',
    '    sleep 30',
    '  done',
    'fi',
    `export KUBECONFIG=${VM_PATHS.adminKubeconfig}`,
    '',
    ...fetchManifest,
    '# The CNI goes to this node\'s own API server, as kubeadm init\'s own calls did: admin.conf names the load',
    '# balancer, which may not answer yet (its VM boots in parallel). The server certificate names this address.',
    'attempt=1',
    'until kubectl --server "${local_api}" apply --server-side --force-conflicts -k "${cni_dir}"; do',
    '  if ((attempt >= cni_attempts)); then',
    '    echo "kubectl apply of the CNI failed ${cni_attempts} times; giving up" >&2',
    '    exit 1',
    '  fi',
    '  attempt=$((attempt + 1))',
    '  sleep 15',
    'done',
    '',
    `echo "operator kubeconfig: ${VM_PATHS.operatorKubeconfig} (ubuntu, 0600)"`,
    `install -d -m 0700 -o ubuntu -g ubuntu ${VM_PATHS.operatorKubeconfig.replace(/\/[^/]+$/, '')}`,
    `install -m 0600 -o ubuntu -g ubuntu ${VM_PATHS.adminKubeconfig} ${VM_PATHS.operatorKubeconfig}`,
  ];
  return {
    name: INIT_CONTROL_PLANE_STEP,
    files,
    script: bashScript({
      description: [
        `Initialises cluster ${plan.spec.name} on its first control plane (kubeadm init), installs the CNI once`,
        'and gives the ubuntu user the admin kubeconfig. Written by k8s-lab cloud-init; idempotent.',
      ],
      body,
    }),
  };
}
