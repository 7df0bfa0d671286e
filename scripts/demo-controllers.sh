#!/usr/bin/env bash
# Independent controllers, through the API alone: a Deployment whose pods name a scheduler that does not
# exist (schedulerName: k8s-lab-demo). The controller manager makes the pods; no scheduler claims them, so
# they stay Pending with no node. Then this script is that scheduler for a moment: it binds each pending
# pod to a node with a Binding (POST pods/NAME/binding), and they run. It stops; a scale-up's new pod and a
# killed pod's replacement wait again. Last, the real scheduler's and controller manager's leases.
#
# Usage: KUBECONFIG=PATH scripts/demo-controllers.sh
# Environment:
#   KUBECONFIG       the cluster's admin kubeconfig (required)
#   NAMESPACE        the demo's own namespace, created and deleted by it (default: k8s-lab-demo-controllers)
#   IMAGE            the pods' image, already on the nodes (default: the workloads' agnhost)
#   TIMEOUT_SECONDS  the longest any wait may take (default: 180)
#   KUBECTL          the kubectl to run (default: kubectl on PATH, .tools/bin first)
# Exit codes: 0 shown; 1 what it shows did not happen, or kubectl failed; 2 bad input; 3 kubectl missing.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
# shellcheck source=demo-lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/demo-lib.sh"
DEMO_USAGE_LINES=15
demo_args "$@"

# --- Inputs -------------------------------------------------------------------------------------
demo_inputs
demo_namespace_input k8s-lab-demo-controllers
image="${IMAGE:-registry.k8s.io/e2e-test-images/agnhost:2.63.0}"
scheduler=k8s-lab-demo
app=demo-controllers

# --- Cleanup: whatever happens from here, the namespace (and so every pod) goes ----------------------
created_ns=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((created_ns)); then
    step "Cleanup: deleting namespace ${ns} (its Deployment, ReplicaSet and pods)"
    demo_delete_namespace "${ns}"
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# pods NAMES: the app's pods not being deleted, one per line: NAME NODE PHASE
pods() {
  k get pods -n "${ns}" -l "app=${app}" -o go-template='{{range .items}}{{if not .metadata.deletionTimestamp}}{{.metadata.name}} {{or .spec.nodeName "-"}} {{.status.phase}}{{"\n"}}{{end}}{{end}}'
}
unbound() { pods | awk '$2 == "-" { print $1 }'; }
count() { pods | awk -v want="$1" 'want == "all" || (want == "unbound" && $2 == "-") || (want == "running" && $3 == "Running") { n++ } END { print n + 0 }'; }
# at_least WHICH N: a condition for wait_until, counted again on every round.
at_least() { (($(count "$1") >= $2)); }
# made_and_waiting N SAID UNBOUND: waits until the app has N pods and says "SAID in S s"; 5 s later, lists them
# and checks that UNBOUND of them still have no node (nobody schedules for the demo's scheduler).
made_and_waiting() {
  local n="$1" said="$2" want_unbound="$3" t0
  t0="$(now_ms)"
  wait_until "${n} pods of deployment/${app}" at_least all "${n}"
  say "${said} in $(secs_since "${t0}") s; 5 s later:"
  sleep 5
  k get pods -n "${ns}" -o wide
  (($(count unbound) == want_unbound)) ||
    fail 1 "expected ${want_unbound} of ${n} pods with no node (nobody schedules for ${scheduler}), found $(count unbound)"
}

# --- Demo ---------------------------------------------------------------------------------------
step "The cluster"
demo_reach
# shellcheck disable=SC2016 # a Go template for kubectl, not shell expansions
# Schedulable nodes: Ready, and without a NoSchedule/NoExecute taint (the demo's pods tolerate none).
mapfile -t nodes < <(k get nodes -o go-template='{{range .items}}{{$ready := false}}{{range .status.conditions}}{{if and (eq .type "Ready") (eq .status "True")}}{{$ready = true}}{{end}}{{end}}{{$tainted := false}}{{range .spec.taints}}{{if or (eq .effect "NoSchedule") (eq .effect "NoExecute")}}{{$tainted = true}}{{end}}{{end}}{{if and $ready (not $tainted)}}{{.metadata.name}}{{"\n"}}{{end}}{{end}}')
((${#nodes[@]} > 0)) || fail 1 "no Ready node without a NoSchedule/NoExecute taint to bind pods to"
say "nodes a pod may be bound to: ${nodes[*]}"

step "A Deployment whose pods ask for a scheduler named '${scheduler}', which does not exist"
say "Kubernetes should: create the ReplicaSet and 2 pods (the controller manager's job) and leave them Pending,"
say "with no node: the default scheduler only takes pods that name it, and nobody else claims them."
demo_namespace "${ns}"
created_ns=1
k create deployment "${app}" -n "${ns}" --image="${image}" --replicas=2 --dry-run=client -o json -- /agnhost serve-hostname --http --port=8080 |
  kin patch --local -f - --type=merge -p "{\"spec\":{\"template\":{\"spec\":{\"schedulerName\":\"${scheduler}\",\"terminationGracePeriodSeconds\":2}}}}" -o json |
  kin create -f - >/dev/null
made_and_waiting 2 "the controller manager made 2 pods" 2
say "both Pending with no node: the pods exist, but no scheduler has claimed them."

step "Be the scheduler for a moment: bind each pending pod to a node with a Binding through the API"
say "A scheduler only writes one object per pod: a Binding, POSTed to pods/<name>/binding."
i=0
bind_pending() {
  local pod node
  for pod in $(unbound); do
    node="${nodes[$((i % ${#nodes[@]}))]}"
    i=$((i + 1))
    printf '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"%s"},"target":{"apiVersion":"v1","kind":"Node","name":"%s"}}' "${pod}" "${node}" |
      kin create --raw "/api/v1/namespaces/${ns}/pods/${pod}/binding" -f - >/dev/null ||
      fail 1 "the Binding of ${pod} to ${node} was refused"
    say "bound ${pod} -> ${node}"
  done
}
# A condition for wait_until: binds what is pending; true once nothing is. (In a condition, set -e is off:
# a refused Binding exits through fail.)
all_bound() { (($(count unbound) == 0)) || { bind_pending; false; }; }
t0="$(now_ms)"
wait_until "binding the pending pods" all_bound
wait_until "the 2 bound pods run" at_least running 2
k get pods -n "${ns}" -o wide
say "the kubelets of those nodes saw their new pods and started them: Running $(secs_since "${t0}") s after the first Binding."

step "The scheduler stops. Scale to 3: the controller manager makes a third pod, and it waits"
k scale deployment "${app}" -n "${ns}" --replicas=3 >/dev/null
made_and_waiting 3 "the ReplicaSet made the third pod" 1

step "Kill a running pod: the ReplicaSet replaces it at once, and the replacement waits for a scheduler too"
victim="$(pods | awk '$2 != "-" && !found { print $1; found = 1 }')" # no early exit: kubectl would get SIGPIPE
[[ -n "${victim}" ]] || fail 1 "no bound pod to delete"
k delete pod "${victim}" -n "${ns}" --wait=false >/dev/null
t0="$(now_ms)"
wait_until "a replacement for ${victim} appears" at_least unbound 2
say "deleted ${victim}; a replacement existed $(secs_since "${t0}") s later, with no node:"
k get pods -n "${ns}" -o wide
((  $(count unbound) == 2 )) || fail 1 "expected 2 pods with no node, found $(count unbound)"

step "The real scheduler and controller manager: one leader each, elected through a Lease object in the API"
k get lease -n kube-system kube-scheduler kube-controller-manager \
  -o custom-columns='LEASE:.metadata.name,HOLDER:.spec.holderIdentity,RENEWED:.spec.renewTime,DURATION(s):.spec.leaseDurationSeconds'
say "each is a separate program that only reads and writes API objects: the controller manager keeps"
say "replica counts (it made every pod above), a scheduler only sets spec.nodeName (we did that by hand)."

step "Shown: the controller manager created and replaced pods on its own; they ran only once a scheduler (this script) bound them"
