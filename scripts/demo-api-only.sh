#!/usr/bin/env bash
# Components talk only through the API server, and etcd holds all cluster state. Reads, through the API
# alone (no SSH): the controller manager's and scheduler's static pod flags (a kubeconfig, no address of any
# other component, no etcd), kube-proxy's and the kubelets' kubeconfigs (the API endpoint), the API server's
# --etcd-* flags (the only etcd client: the only pod besides etcd with etcd's certificates). Then creates a
# Deployment and lists, with etcdctl in a stacked etcd pod, the /registry/ keys where it and its pods live.
#
# Usage: KUBECONFIG=PATH scripts/demo-api-only.sh
# Environment:
#   KUBECONFIG       the cluster's admin kubeconfig (required)
#   NAMESPACE        the demo's own namespace, created and deleted by it (default: k8s-lab-demo-api-only)
#   IMAGE            the pods' image, already on the nodes (default: the workloads' agnhost)
#   TIMEOUT_SECONDS  the longest any wait may take (default: 180)
#   KUBECTL          the kubectl to run (default: kubectl on PATH, .tools/bin first)
# Exit codes: 0 shown; 1 what it shows did not hold, or kubectl failed; 2 bad input; 3 kubectl missing.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
# shellcheck source=demo-lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/demo-lib.sh"
DEMO_USAGE_LINES=15
demo_args "$@"

# --- Inputs -------------------------------------------------------------------------------------
demo_inputs
demo_namespace_input k8s-lab-demo-api-only
image="${IMAGE:-registry.k8s.io/e2e-test-images/agnhost:2.63.0}"
app=demo-api-only

created_ns=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((created_ns)); then
    step "Cleanup: deleting namespace ${ns}"
    demo_delete_namespace "${ns}"
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# flags POD: the first container's command and args of a kube-system pod, one per line.
flags() { k get pod "$1" -n kube-system -o go-template='{{range (index .spec.containers 0).command}}{{.}}{{"\n"}}{{end}}{{range (index .spec.containers 0).args}}{{.}}{{"\n"}}{{end}}'; }
# pod_of COMPONENT: the name of one of its static pods (label component=COMPONENT), or nothing.
pod_of() {
  local names
  names="$(k get pods -n kube-system -l "component=$1" -o jsonpath='{.items[*].metadata.name}')"
  printf '%s' "${names%% *}"
}

# --- Demo ---------------------------------------------------------------------------------------
step "The cluster"
demo_reach

step "The control plane's programs, as static pods: what each is told to talk to (read through the API)"
for component in kube-controller-manager kube-scheduler; do
  pod="$(pod_of "${component}")"
  [[ -n "${pod}" ]] || fail 1 "no static pod with component=${component} in kube-system (not a kubeadm control plane?)"
  mapfile -t f < <(flags "${pod}")
  say "${pod}: $(printf '%s\n' "${f[@]}" | grep -E -- '--(kubeconfig|authentication-kubeconfig|authorization-kubeconfig|master)=' | tr '\n' ' ')"
  others="$(printf '%s\n' "${f[@]}" | grep -E -- '--(master|etcd[-a-z]*)=|://' || true)"
  [[ -z "${others}" ]] || fail 1 "${pod} names an address or etcd directly: ${others}"
done
say "both get a kubeconfig file, and nothing else to connect to: no etcd flag, no address of another component."

kp="$(k get --raw /api/v1/namespaces/kube-system/configmaps/kube-proxy 2>/dev/null | tr ',' '\n' | grep -o 'server: *[^\\]*' | sed 's/server: *//' | sort -u | tr '\n' ' ' || true)"
ci="$(k get --raw /api/v1/namespaces/kube-public/configmaps/cluster-info | tr ',' '\n' | grep -o 'server: *[^\\]*' | sed 's/server: *//' | sort -u | tr '\n' ' ')"
say "kube-proxy's kubeconfig (ConfigMap kube-system/kube-proxy): server ${kp:-(none: no kube-proxy)}"
say "the kubelets joined through cluster-info (ConfigMap kube-public/cluster-info): server ${ci}"
[[ -n "${ci}" ]] || fail 1 "cluster-info names no server"
api_eps="$(k get endpointslices -n default -l kubernetes.io/service-name=kubernetes -o go-template='{{range .items}}{{range .endpoints}}{{range .addresses}}{{.}} {{end}}{{end}}{{end}}')"
say "pods (CoreDNS, flannel) use the Service kubernetes.default, whose endpoints are the API servers: ${api_eps}"

step "etcd's only client is the API server"
apiserver="$(pod_of kube-apiserver)"
[[ -n "${apiserver}" ]] || fail 1 "no kube-apiserver static pod in kube-system"
say "${apiserver}:"
flags "${apiserver}" | grep -E -- '^--etcd-' | sed 's/^/      /'
etcd_servers="$(flags "${apiserver}" | sed -n 's/^--etcd-servers=//p')"
[[ -n "${etcd_servers}" ]] || fail 1 "${apiserver} has no --etcd-servers flag"
etcd_pod="$(pod_of etcd)"
if [[ -n "${etcd_pod}" ]]; then
  say "${etcd_pod} accepts only clients with a certificate from etcd's own CA:"
  flags "${etcd_pod}" | grep -E -- '^--(client-cert-auth|trusted-ca-file|listen-client-urls)=' | sed 's/^/      /'
fi
# Which pods can present such a certificate: those that mount etcd's certificate folder or the API server's etcd client key.
# shellcheck disable=SC2016 # a Go template for kubectl, not shell expansions
holders="$(k get pods -A -o go-template='{{range .items}}{{$p := .metadata.name}}{{range .spec.volumes}}{{if .hostPath}}{{$p}} {{.hostPath.path}}{{"\n"}}{{end}}{{end}}{{end}}' |
  awk '$2 ~ /pki(\/etcd)?$/ { print $1 }' | sort -u)"
say "pods that mount a folder holding etcd certificates: $(tr '\n' ' ' <<<"${holders}")"
strangers="$(grep -Ev '^(etcd|kube-apiserver)-' <<<"${holders}" | grep -Ev '^(kube-controller-manager-|$)' || true)"
[[ -z "${strangers}" ]] || fail 1 "pods other than etcd, the API server and the controller manager mount etcd's certificates: ${strangers}"
say "(the controller manager mounts /etc/kubernetes/pki for the cluster CA it signs certificates with; it is never"
say " told about etcd: no --etcd flag, above. The API server is the one program configured to reach etcd.)"

step "Where the desired and the current state live: /registry/ keys in etcd"
if [[ -z "${etcd_pod}" ]]; then
  say "etcd is not a pod here (external etcd: ${etcd_servers}). Its keys are listed on an etcd node, e.g.:"
  say "  sudo etcdctl --endpoints=https://127.0.0.1:2379 --cacert=... --cert=... --key=... get /registry/deployments/ --prefix --keys-only"
  step "Shown: every component talks to the API server; the API server alone talks to etcd (keys skipped: external etcd)"
  exit 0
fi
etcdctl() {
  k exec -n kube-system "${etcd_pod}" -- etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt \
    --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key \
    --dial-timeout=3s --command-timeout=5s "$@"
}
keys() { etcdctl get "$1" --prefix --keys-only | grep -v '^$' || true; }
say "A Deployment of 2 pods in a namespace of its own, ${ns}; then etcdctl, inside ${etcd_pod}, through kubectl exec."
demo_namespace "${ns}"
created_ns=1
k create deployment "${app}" -n "${ns}" --image="${image}" --replicas=2 -- /agnhost serve-hostname --http --port=8080 >/dev/null
k rollout status "deployment/${app}" -n "${ns}" --timeout="${timeout_s}s" >/dev/null || fail 1 "deployment/${app} did not become available within ${timeout_s}s"
for prefix in deployments replicasets pods; do
  say "etcdctl get /registry/${prefix}/${ns}/ --prefix --keys-only"
  keys "/registry/${prefix}/${ns}/" | sed 's/^/      /'
done
pod_keys="$(keys "/registry/pods/${ns}/" | sed "s|^/registry/pods/${ns}/||" | sort)"
pod_names="$(k get pods -n "${ns}" -o go-template='{{range .items}}{{.metadata.name}}{{"\n"}}{{end}}' | sort)"
[[ "${pod_keys}" == "${pod_names}" ]] || fail 1 "etcd's pod keys (${pod_keys//$'\n'/ }) are not kubectl's pods (${pod_names//$'\n'/ })"
rev() { etcdctl get "/registry/deployments/${ns}/${app}" -w json | grep -o '"mod_revision":[0-9]*' | cut -d: -f2; }
r1="$(rev)"
k scale deployment "${app}" -n "${ns}" --replicas=3 >/dev/null
k rollout status "deployment/${app}" -n "${ns}" --timeout="${timeout_s}s" >/dev/null || fail 1 "deployment/${app} did not reach 3 within ${timeout_s}s"
r2="$(rev)"
n="$(keys "/registry/pods/${ns}/" | grep -c . || true)"
say "kubectl scale --replicas=3: the Deployment's key was rewritten (mod_revision ${r1} -> ${r2}), and etcd holds ${n} pod keys now"
((r2 > r1 && n == 3)) || fail 1 "expected a newer revision of the Deployment's key and 3 pod keys, got ${r1} -> ${r2} and ${n}"
say "the values are the objects in protobuf: the API server is the only one that reads or writes them."

step "Shown: every component is configured with the API server's address alone; only the API server is configured to reach etcd; the Deployment and its pods are keys under /registry/"
