#!/usr/bin/env bash
# Grouping by labels: a Service and a ReplicaSet find "the backends" by their labels, whoever they are right
# now. Take tier=backend off one running web pod: it leaves the Service's endpoints, and its ReplicaSet makes
# a replacement (the pod no longer matches); the orphan keeps running and serves nothing. Put the label back:
# the ReplicaSet adopts it and scales the extra pod away. An annotation, even one named like the label,
# moves nothing. Last, the API server accepts a change to a pod label no selector uses (team) and refuses one
# to the Deployment's selector: it is fixed once the Deployment exists (both asked as server-side dry runs).
# Uses the web Deployment and Service of dist/web-backend.k8s.yaml (applied if absent).
#
# Usage: KUBECONFIG=PATH scripts/demo-labels.sh
# Environment:
#   KUBECONFIG       the cluster's admin kubeconfig (required)
#   DIST_DIR         the synthesized manifests (default: dist/ of the repository; `npm run synth`)
#   NAMESPACE        where web runs, or is applied (default: default)
#   TIMEOUT_SECONDS  the longest any wait may take (default: 180)
#   KUBECTL          the kubectl to run (default: kubectl on PATH, .tools/bin first)
# Exit codes: 0 shown; 1 what it shows did not happen, or kubectl failed; 2 bad input; 3 kubectl missing.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
# shellcheck source=demo-lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/demo-lib.sh"
DEMO_USAGE_LINES=17
demo_args "$@"

# --- Inputs -------------------------------------------------------------------------------------
demo_inputs
dist="${DIST_DIR:-${ROOT}/dist}"
manifest="${dist}/web-backend.k8s.yaml"
[[ -f "${manifest}" ]] || fail 2 "DIST_DIR '${dist}' has no web-backend.k8s.yaml; run 'npm run synth' first"
demo_namespace_input default
name=web
key=tier
note_key=tier # the annotation's key: the same word as the label's, to show it selects nothing

# --- Cleanup: the label back, the annotation off, web as it was ---------------------------------------
applied=0
orphan=""
annotated=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "${orphan}" ]] && k get pod "${orphan}" -n "${ns}" >/dev/null 2>&1; then
    step "Cleanup: label ${key}=${value} back on ${orphan}"
    k label pod "${orphan}" -n "${ns}" "${key}=${value}" --overwrite >/dev/null || log "warning: could not relabel ${orphan}"
  fi
  if [[ -n "${annotated}" ]]; then
    k annotate pod "${annotated}" -n "${ns}" "${note_key}-" >/dev/null 2>&1 || true
  fi
  if ((applied)); then
    step "Cleanup: deleting what this demo applied (${manifest})"
    k delete -n "${ns}" -f "${manifest}" --ignore-not-found --timeout="${timeout_s}s" >/dev/null || log "warning: could not delete ${manifest}'s objects"
  elif ((rc != 0)) && [[ -n "${orphan}" ]]; then
    k rollout status "deployment/${name}" -n "${ns}" --timeout="${timeout_s}s" >/dev/null 2>&1 || true
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The Service's endpoints (pod names), and the pods its selector matches (not being deleted), sorted.
endpoints() {
  k get endpointslices -n "${ns}" -l "kubernetes.io/service-name=${name}" -o go-template='{{range .items}}{{range .endpoints}}{{if .targetRef}}{{.targetRef.name}}{{"\n"}}{{end}}{{end}}{{end}}' | sort
}
selected() {
  k get pods -n "${ns}" -l "${selector}" -o go-template='{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}' | sort
}
ready() { k get deployment "${name}" -n "${ns}" -o go-template='{{with .status.readyReplicas}}{{.}}{{else}}0{{end}}'; }
line() { tr '\n' ' ' | sed 's/ $//'; }
# Conditions for wait_until, asked again on every round.
has() { grep -qx -- "$2" <<<"$1"; }
endpoints_match() { [[ "$(endpoints)" == "$(selected)" ]]; }
orphan_left() { ! has "$(endpoints)" "${orphan}"; }
replaced() { (($(ready) == want)) && ! has "$(selected)" "${orphan}" && (($(selected | grep -c .) == want)); }
back_to_want() { (($(selected | grep -c .) == want)); }

# --- Demo ---------------------------------------------------------------------------------------
step "The cluster"
demo_reach
if ! k get deployment "${name}" -n "${ns}" >/dev/null 2>&1; then
  step "deployment/${name} is not in ${ns}: kubectl apply -f ${manifest} (deleted again at the end)"
  applied=1
  k apply -n "${ns}" -f "${manifest}"
fi
k rollout status "deployment/${name}" -n "${ns}" --timeout="${timeout_s}s" ||
  fail 1 "deployment/${name} did not become available within ${timeout_s}s"

# shellcheck disable=SC2016 # a Go template for kubectl, not shell expansions
selector="$(k get service "${name}" -n "${ns}" -o go-template='{{range $k, $v := .spec.selector}}{{$k}}={{$v}},{{end}}')"
selector="${selector%,}"
[[ ",${selector}," =~ ,${key}=([^,]*), ]] || fail 1 "service/${name}'s selector (${selector}) has no ${key} label"
value="${BASH_REMATCH[1]}"
want="$(k get deployment "${name}" -n "${ns}" -o go-template='{{.spec.replicas}}')"

step "The Service selects by labels: ${selector}"
k get pods -n "${ns}" -l "app=${name}" -L "${key}" -o wide
wait_until "service/${name}'s endpoints are exactly its ${want} selected pods" endpoints_match
mapfile -t before < <(selected)
say "service/${name}'s endpoints: $(endpoints | line)"
say "the same ${#before[@]} pods its selector matches; the ReplicaSet counts the same pods."

orphan="${before[0]}"
step "Take ${key}=${value} off ${orphan}: kubectl label pod ${orphan} ${key}-"
say "Kubernetes should: drop it from the Service's endpoints; the ReplicaSet, now seeing $((want - 1)) matching pods,"
say "releases it (no owner any more) and makes a new one; ${orphan} itself keeps running."
t0="$(now_ms)"
k label pod "${orphan}" -n "${ns}" "${key}-" >/dev/null
wait_until "${orphan} leaves the endpoints" orphan_left
say "${orphan} left the endpoints after $(secs_since "${t0}") s"
wait_until "the ReplicaSet replaces ${orphan}" replaced
mapfile -t during < <(selected)
replacement="$(comm -13 <(printf '%s\n' "${before[@]}") <(printf '%s\n' "${during[@]}") | line)"
say "a replacement, ${replacement:-?}, is ready $(secs_since "${t0}") s after the label came off: ${want}/${want} again"
k get pods -n "${ns}" -l "app=${name}" -L "${key}" -o wide
owner="$(k get pod "${orphan}" -n "${ns}" -o go-template='{{range .metadata.ownerReferences}}{{.kind}}/{{.name}}{{end}}')"
phase="$(k get pod "${orphan}" -n "${ns}" -o go-template='{{.status.phase}}')"
[[ -z "${owner}" ]] || fail 1 "${orphan} still has an owner (${owner}) after losing its label"
[[ "${phase}" == Running ]] || fail 1 "${orphan} is ${phase}, expected it to keep running"
[[ -n "${replacement}" ]] || fail 1 "no new pod replaced ${orphan}"
wait_until "the endpoints are exactly the selected pods" endpoints_match
say "${orphan}: ${phase}, owned by nobody, in no endpoint: it serves nothing. Endpoints: $(endpoints | line)"

step "Put the label back: kubectl label pod ${orphan} ${key}=${value}"
say "Kubernetes should: the ReplicaSet adopts ${orphan} again, sees $((want + 1)) pods for ${want} wanted, and deletes one."
t0="$(now_ms)"
k label pod "${orphan}" -n "${ns}" "${key}=${value}" >/dev/null
relabelled="${orphan}"
orphan=""
wait_until "the ReplicaSet scales back to ${want}" back_to_want
mapfile -t after < <(selected)
removed="$(comm -23 <(printf '%s\n' "${before[@]}" "${replacement}" | sort) <(printf '%s\n' "${after[@]}") | line)"
say "$(secs_since "${t0}") s later the ReplicaSet had ${want} again; it deleted: ${removed:-?}"
wait_until "the endpoints are exactly the ${want} selected pods" endpoints_match
k get pods -n "${ns}" -l "app=${name}" -L "${key}" -o wide
say "endpoints: $(endpoints | line)"

step "An annotation moves nothing: kubectl annotate pod ${relabelled} ${note_key}=preview"
say "Annotations are metadata for people and tools; no selector reads them, even one named '${note_key}'."
mapfile -t before < <(selected)
eps_before="$(endpoints)"
annotated="${relabelled}"
k annotate pod "${relabelled}" -n "${ns}" "${note_key}=preview" >/dev/null
sleep 5
mapfile -t after < <(selected)
[[ "${before[*]}" == "${after[*]}" && "$(endpoints)" == "${eps_before}" ]] ||
  fail 1 "the annotation changed something: pods '${before[*]}' -> '${after[*]}'"
# shellcheck disable=SC2016 # a Go template for kubectl, not shell expansions
say "5 s later: the same ${#after[@]} pods, the same endpoints; ${relabelled}'s labels: $(k get pod "${relabelled}" -n "${ns}" -o go-template='{{range $k, $v := .metadata.labels}}{{$k}}={{$v}} {{end}}')"
k annotate pod "${relabelled}" -n "${ns}" "${note_key}-" >/dev/null
annotated=""

step "A Deployment's selector is fixed once it exists; its pods' other labels are not"
say "Kubernetes should: accept a change to a pod label that no selector uses, and refuse a change to the selector"
say "(the ReplicaSets it made would lose their pods). Both are asked with --dry-run=server: the API server"
say "validates each change in full, and stores neither."
# shellcheck disable=SC2016 # a Go template for kubectl, not shell expansions
match="$(k get deployment "${name}" -n "${ns}" -o go-template='{{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}}{{"\n"}}{{end}}')"
# shellcheck disable=SC2016 # a Go template for kubectl, not shell expansions
other="$(k get deployment "${name}" -n "${ns}" -o go-template='{{range $k, $v := .spec.template.metadata.labels}}{{$k}}={{$v}}{{"\n"}}{{end}}' |
  grep -v -x -F -f <(printf '%s\n' "${match}") | head -n 1 || true)"
other_key="${other%%=*}"
[[ -n "${other}" ]] || other_key=k8s-lab.io/demo # no other label: adding one is the same kind of change
generation="$(k get deployment "${name}" -n "${ns}" -o go-template='{{.metadata.generation}}')"
# label_patch KEY VALUE [selector]: a merge patch that sets the pods' label KEY=VALUE (with "selector", in the
# Deployment's selector too), built as an object and serialised by JSON.stringify.
label_patch() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const [key, value, also] = process.argv.slice(1);
    const labels = { [key]: value };
    const spec = { template: { metadata: { labels } } };
    if (also === "selector") spec.selector = { matchLabels: labels };
    console.log(JSON.stringify({ spec }));
  ' "$1" "$2" "${3:-}"
}
if ! out="$(k patch deployment "${name}" -n "${ns}" --dry-run=server --type=merge -p "$(label_patch "${other_key}" demo-changed)" 2>&1)"; then
  fail 1 "the API server refused a change to the pods' label ${other_key}, which no selector uses: ${out}"
fi
say "${other_key}=demo-changed on the pods (${other:-absent} now): accepted (${out})"
if out="$(k patch deployment "${name}" -n "${ns}" --dry-run=server --type=merge -p "$(label_patch "${key}" demo-changed selector)" 2>&1)"; then
  fail 1 "the API server accepted a change to deployment/${name}'s selector (${key}=demo-changed): ${out}"
fi
grep -q 'field is immutable' <<<"${out}" || fail 1 "the selector change was refused, but not as immutable: ${out}"
say "${key}=demo-changed in the selector and on the pods: refused: $(grep -o 'spec.selector: .*' <<<"${out}" | head -n 1)"
[[ "$(k get deployment "${name}" -n "${ns}" -o go-template='{{.metadata.generation}}')" == "${generation}" ]] ||
  fail 1 "deployment/${name} changed (generation ${generation} before): a dry run must store nothing"
say "deployment/${name} is unchanged (generation ${generation}): so its selector holds only what the pods are ($(line <<<"${match}"))."

step "Shown: membership is a label query, evaluated again and again: take the label off and the pod leaves the group; put it back and it rejoins"
