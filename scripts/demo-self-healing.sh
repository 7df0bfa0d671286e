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
# Exit codes: 0 shown; 1 what it shows did not happen (the count did not come back in time), or kubectl
#             failed; 2 bad input (KUBECONFIG, DIST_DIR, settings); 3 kubectl missing.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
# shellcheck source=demo-lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/demo-lib.sh"
DEMO_USAGE_LINES=13
demo_args "$@"

# --- Inputs (in this order: KUBECONFIG, DIST_DIR, DEPLOYMENT, TIMEOUT_SECONDS, kubectl) ----------------------
demo_kubeconfig

dist="${DIST_DIR:-${ROOT}/dist}"
[[ -d "${dist}" ]] || fail 2 "DIST_DIR '${dist}' is not a directory; run 'npm run synth' first"
shopt -s nullglob
manifests=("${dist}"/*.k8s.yaml)
shopt -u nullglob
((${#manifests[@]} > 0)) || fail 2 "DIST_DIR '${dist}' has no *.k8s.yaml files; run 'npm run synth' first"

deployment="${DEPLOYMENT:-web}"
[[ "${deployment}" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] ||
  fail 2 "DEPLOYMENT must be a Kubernetes object name (lowercase letters, digits, '-'), got '${deployment}'"
demo_timeout
demo_kubectl

# The pods the Deployment's selector matches, not being deleted, one name per line.
selected() { k get pods -l "${selector}" -o go-template='{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}'; }
# A condition for wait_until: the Deployment has its ready pods again and the deleted ones are gone.
healed() {
  local ready remaining
  ready="$(k get deployment "${deployment}" -o go-template='{{with .status.readyReplicas}}{{.}}{{else}}0{{end}}')"
  remaining="$(k get pod "${victims[@]}" --ignore-not-found -o name | wc -l)"
  log "ready ${ready}/${want}; deleted pods still terminating: ${remaining}"
  ((ready == want && remaining == 0))
}

# --- Demo ---------------------------------------------------------------------------------------
step "The cluster"
demo_reach
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
mapfile -t before < <(selected)
((${#before[@]} >= 2)) || fail 1 "expected at least 2 pods labelled ${selector}, found ${#before[@]}"
victims=("${before[@]:0:2}")

step "Delete two of them: ${victims[*]}"
k delete pod "${victims[@]}" --wait=false
k get deployment "${deployment}"

step "The control loop restores ${want} ready pods (waiting at most ${timeout_s}s)"
wait_until "deployment/${deployment} back to ${want} ready pods (see 'kubectl describe deployment ${deployment}')" healed

mapfile -t after < <(selected)
new=()
for p in "${after[@]}"; do
  [[ " ${before[*]} " == *" ${p} "* ]] || new+=("${p}")
done

step "Healed: ${want} of ${want} ready again; new pods: ${new[*]:-none}"
k get deployment "${deployment}"
k get pods -l "${selector}" -o wide
