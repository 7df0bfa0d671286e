#!/usr/bin/env bash
# Self-healing, live: applies the synthesized workloads (dist/) to the deployed cluster, deletes two
# pods of the web Deployment, and watches the Deployment controller bring the count back.
#
# Usage: KUBECONFIG=PATH scripts/demo-self-healing.sh
# Environment:
#   KUBECONFIG       the deployed cluster's kubeconfig (required)
#   DIST_DIR         the synthesized manifests (default: dist/ of the repository; `npm run synth`)
#   DEPLOYMENT       the Deployment to heal (default: web)
#   TIMEOUT_SECONDS  the longest any wait may take (default: 180)
#   KUBECTL          the kubectl to run (default: kubectl on PATH, .tools/bin first)
# Exit codes: 0 healed; 1 the cluster did not converge in time or kubectl failed;
#             2 bad input (KUBECONFIG, DIST_DIR, settings); 3 kubectl missing.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

usage() { sed -n '2,13s/^# \{0,1\}//p' "$0"; }
fail() {
  local code="$1"
  shift
  log "error: $*"
  exit "${code}"
}
step() { printf '\n==> %s\n' "$*"; }

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; fail 2 "unexpected argument '$1' (this script takes none; it is configured by environment variables)" ;;
esac

# --- Inputs -------------------------------------------------------------------------------------
[[ -n "${KUBECONFIG:-}" ]] ||
  fail 2 "KUBECONFIG is not set; point it at the deployed cluster's admin kubeconfig, e.g. KUBECONFIG=path/to/admin.kubeconfig $0"
IFS=':' read -r -a kubeconfigs <<<"${KUBECONFIG}"
for f in "${kubeconfigs[@]}"; do
  [[ -n "${f}" ]] || continue
  [[ -f "${f}" ]] || fail 2 "KUBECONFIG names '${f}', which is not a file"
  [[ -r "${f}" ]] || fail 2 "KUBECONFIG names '${f}', which is not readable by $(id -un)"
done

dist="${DIST_DIR:-${ROOT}/dist}"
[[ -d "${dist}" ]] || fail 2 "DIST_DIR '${dist}' is not a directory; run 'npm run synth' first"
shopt -s nullglob
manifests=("${dist}"/*.k8s.yaml)
shopt -u nullglob
((${#manifests[@]} > 0)) || fail 2 "DIST_DIR '${dist}' has no *.k8s.yaml files; run 'npm run synth' first"

deployment="${DEPLOYMENT:-web}"
[[ "${deployment}" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] ||
  fail 2 "DEPLOYMENT must be a Kubernetes object name (lowercase letters, digits, '-'), got '${deployment}'"
timeout_s="${TIMEOUT_SECONDS:-180}"
[[ "${timeout_s}" =~ ^[1-9][0-9]*$ ]] || fail 2 "TIMEOUT_SECONDS must be a positive whole number of seconds, got '${timeout_s}'"

# The project's tools first (npm run tools), if they were built.
if [[ -f "${TOOLS_DIR}/env" ]]; then
  # shellcheck source=/dev/null
  source "${TOOLS_DIR}/env"
fi
kubectl_bin="${KUBECTL:-kubectl}"
command -v "${kubectl_bin}" >/dev/null 2>&1 ||
  fail 3 "'${kubectl_bin}' is not installed (or KUBECTL names a missing program); install a kubectl within one minor version of the cluster"
# Never interactive: a kubeconfig without credentials would otherwise prompt for a username.
k() { "${kubectl_bin}" "$@" </dev/null; }

# --- Demo ---------------------------------------------------------------------------------------
step "The cluster"
k version --request-timeout=10s || fail 1 "kubectl cannot reach the cluster of KUBECONFIG=${KUBECONFIG}"
k get nodes -L k8s-lab.io/pool

step "Declare the desired state: kubectl apply -f ${dist}"
k apply -f "${dist}"

step "The Deployment controller makes it true (waiting at most ${timeout_s}s)"
k rollout status "deployment/${deployment}" --timeout="${timeout_s}s" ||
  fail 1 "deployment/${deployment} did not become available within ${timeout_s}s; see 'kubectl describe deployment ${deployment}'"

# The Deployment finds its pods by its label selector, never by their names: read that selector.
# shellcheck disable=SC2016 # a Go template for kubectl, not shell expansions
selector="$(k get deployment "${deployment}" -o go-template='{{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}},{{end}}')"
selector="${selector%,}"
[[ -n "${selector}" ]] || fail 1 "deployment/${deployment} has no matchLabels selector"
want="$(k get deployment "${deployment}" -o go-template='{{.spec.replicas}}')"
log "deployment/${deployment} wants ${want} pods with the labels ${selector}"

step "Its pods, found by label: kubectl get pods -l ${selector}"
k get pods -l "${selector}" -o wide
if [[ ",${selector}," =~ ,app=([^,]*), ]]; then
  app="${BASH_REMATCH[1]}"
  step "Everything labelled app=${app} (a wider group: the Service selects only the pods above)"
  k get pods -l "app=${app}" -L tier,team
fi

# Two pods chosen by the same selector.
mapfile -t before < <(k get pods -l "${selector}" -o go-template='{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}')
((${#before[@]} >= 2)) || fail 1 "expected at least 2 pods labelled ${selector}, found ${#before[@]}"
victims=("${before[@]:0:2}")

step "Delete two of them: ${victims[*]}"
k delete pod "${victims[@]}" --wait=false
k get deployment "${deployment}"

step "The control loop restores ${want} ready pods (waiting at most ${timeout_s}s)"
deadline=$((SECONDS + timeout_s))
while :; do
  ready="$(k get deployment "${deployment}" -o go-template='{{with .status.readyReplicas}}{{.}}{{else}}0{{end}}')"
  remaining="$(k get pod "${victims[@]}" --ignore-not-found -o name | wc -l)"
  log "ready ${ready}/${want}; deleted pods still terminating: ${remaining}"
  if ((ready == want && remaining == 0)); then break; fi
  ((SECONDS < deadline)) ||
    fail 1 "deployment/${deployment} did not get back to ${want} ready pods within ${timeout_s}s; see 'kubectl describe deployment ${deployment}'"
  sleep 2
done

mapfile -t after < <(k get pods -l "${selector}" -o go-template='{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}')
new=()
for p in "${after[@]}"; do
  [[ " ${before[*]} " == *" ${p} "* ]] || new+=("${p}")
done

step "Healed: ${want} of ${want} ready again; new pods: ${new[*]:-none}"
k get deployment "${deployment}"
k get pods -l "${selector}" -o wide
