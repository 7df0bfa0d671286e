# shellcheck shell=bash
# Helpers shared by the demos (scripts/demo-*.sh). Source it after lib.sh; it defines functions only.
# Every demo: KUBECONFIG names the cluster; exit 0 when what it shows happened, 1 when it did not (or the
# cluster did not answer), 2 for bad input, 3 when kubectl is missing. Bad input changes nothing.

# fail CODE MESSAGE...: the error, on stderr, and exit CODE (the EXIT trap still cleans up).
fail() {
  local code="$1"
  shift
  log "error: $*"
  exit "${code}"
}
# A heading, and a line of narrative.
step() { printf '\n==> %s\n' "$*"; }
say() { printf '    %s\n' "$*"; }

# demo_args "$@": --help prints the header comment (lines 2..N of the script); nothing else is accepted.
demo_args() {
  case "${1:-}" in
    -h | --help) sed -n "2,${DEMO_USAGE_LINES:-20}s/^# \{0,1\}//p" "$0"; exit 0 ;;
    "") ;;
    *) fail 2 "unexpected argument '$1' (this script takes none; it is configured by environment variables; see --help)" ;;
  esac
}

# demo_inputs: checks KUBECONFIG, TIMEOUT_SECONDS and kubectl, in that order; sets timeout_s and kubectl_bin.
# A demo with inputs of its own to check in between calls the three steps itself.
demo_inputs() {
  demo_kubeconfig
  demo_timeout
  demo_kubectl
}

# demo_kubeconfig: KUBECONFIG is set, and every file it names exists and is readable.
demo_kubeconfig() {
  [[ -n "${KUBECONFIG:-}" ]] ||
    fail 2 "KUBECONFIG is not set; point it at the cluster's admin kubeconfig, e.g. KUBECONFIG=path/to/admin.kubeconfig $0"
  local f
  IFS=':' read -r -a kubeconfigs <<<"${KUBECONFIG}"
  for f in "${kubeconfigs[@]}"; do
    [[ -n "${f}" ]] || continue
    [[ -f "${f}" ]] || fail 2 "KUBECONFIG names '${f}', which is not a file"
    [[ -r "${f}" ]] || fail 2 "KUBECONFIG names '${f}', which is not readable by $(id -un)"
  done
}

# demo_timeout: sets timeout_s from TIMEOUT_SECONDS (default 180), a positive whole number.
demo_timeout() {
  timeout_s="${TIMEOUT_SECONDS:-180}"
  [[ "${timeout_s}" =~ ^[1-9][0-9]*$ ]] || fail 2 "TIMEOUT_SECONDS must be a positive whole number of seconds, got '${timeout_s}'"
}

# demo_kubectl: sets kubectl_bin from KUBECTL (default: kubectl, .tools/bin first), or exits 3.
demo_kubectl() {
  # The project's tools first (npm run tools), if they were built.
  if [[ -f "${TOOLS_DIR}/env" ]]; then
    # shellcheck source=/dev/null
    source "${TOOLS_DIR}/env"
  fi
  kubectl_bin="${KUBECTL:-kubectl}"
  command -v "${kubectl_bin}" >/dev/null 2>&1 ||
    fail 3 "'${kubectl_bin}' is not installed (or KUBECTL names a missing program); install a kubectl within one minor version of the cluster"
}

# demo_namespace_input DEFAULT: sets ns from NAMESPACE (default DEFAULT), a Kubernetes namespace name, or exits 2.
demo_namespace_input() {
  ns="${NAMESPACE:-$1}"
  [[ "${ns}" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || fail 2 "NAMESPACE must be a Kubernetes namespace name (lowercase letters, digits, '-'), got '${ns}'"
}

# Never interactive: a kubeconfig without credentials would otherwise prompt for a username.
k() { "${kubectl_bin}" --request-timeout=20s "$@" </dev/null; }
# kin ARGS: kubectl reading the object it is given on stdin (-f -).
kin() { "${kubectl_bin}" --request-timeout=20s "$@"; }

# demo_reach: the cluster answers, or exit 1 naming the kubeconfig (before anything is changed).
demo_reach() {
  k version || fail 1 "kubectl cannot reach the cluster of KUBECONFIG=${KUBECONFIG}"
}

# wait_until WHAT CONDITION...: runs CONDITION every second until it succeeds; exit 1 naming WHAT after
# timeout_s. CONDITION is run again each round: give it a function or a command, never "$(...)" to test.
wait_until() {
  local what="$1" deadline=$((SECONDS + timeout_s))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || fail 1 "${what}: not within ${timeout_s}s"
    sleep 1
  done
}

# now_ms: milliseconds since the epoch; secs_since MS: seconds since then, one decimal.
now_ms() { date +%s%3N; }
secs_since() { local d=$(($(now_ms) - $1)); printf '%d.%d' $((d / 1000)) $((d % 1000 / 100)); }

# demo_namespace NAME: creates the demo's own namespace (labelled, so a leftover is recognisable);
# refuses one that exists and is not a leftover of this demo.
demo_namespace() {
  local ns="$1" owner
  if k get namespace "${ns}" >/dev/null 2>&1; then
    owner="$(k get namespace "${ns}" -o go-template='{{index .metadata.labels "k8s-lab.io/demo"}}')"
    [[ "${owner}" == "$(basename "$0" .sh)" ]] ||
      fail 2 "namespace ${ns} exists and is not this demo's (label k8s-lab.io/demo='${owner}'); delete it or set NAMESPACE"
    say "namespace ${ns} is left over from an earlier run; deleting it first"
    k delete namespace "${ns}" --timeout="${timeout_s}s" >/dev/null || fail 1 "could not delete the leftover namespace ${ns}"
  fi
  k create namespace "${ns}" >/dev/null
  k label namespace "${ns}" "k8s-lab.io/demo=$(basename "$0" .sh)" >/dev/null
}

# demo_delete_namespace NAME: deletes it and waits (bounded) until it is gone.
demo_delete_namespace() {
  local ns="$1"
  k delete namespace "${ns}" --ignore-not-found --timeout="${timeout_s:-180}s" >/dev/null 2>&1 ||
    log "warning: namespace ${ns} is not gone yet; 'kubectl delete namespace ${ns}' finishes it"
}
