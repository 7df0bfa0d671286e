#!/usr/bin/env bash
# npm run deploy / diff / destroy: cdktf with the project's tools (.tools/env: the local provider
# mirror) and the flags a machine without the Terraform registry needs:
#   --skip-provider-lock   cdktf would otherwise run `terraform providers lock`, which asks the
#                          registry; `terraform init` still writes the lock file from the mirror.
# Terraform runs at its default parallelism: the NoCloud seeds are plain volumes, which provider
# v0.8.3 never downloads back (README, "A fault of the provider": measured by npm run bench:fault).
# Usage: scripts/cdktf.sh deploy|diff|destroy [more cdktf flags, e.g. --auto-approve]
set -euo pipefail
# Terraform's state, plan files and .terraform/ hold the cluster's secrets: whatever this command
# creates is 0600 in 0700 folders (the app sets the same umask for what it writes; main.ts).
umask 077
source "$(dirname "$0")/lib.sh"
cd "${ROOT}"

command="${1:-}"
case "${command}" in
  deploy | destroy | diff) shift ;;
  *) die "the first argument must be one of deploy, diff, destroy; got '${command}'" ;;
esac

# deploy asks the host first (scripts/preflight.ts: read-only virsh calls; every finding at once)
# and stops before anything is created if it cannot hold the spec. --skip-preflight or
# K8S_LAB_SKIP_PREFLIGHT=1 turns that off (README "Preflight" says when that is sensible).
skip_preflight="${K8S_LAB_SKIP_PREFLIGHT:-0}"
[[ "${skip_preflight}" == 0 || "${skip_preflight}" == 1 ]] || die "K8S_LAB_SKIP_PREFLIGHT must be 1 (skip the preflight) or 0 (run it); got '${skip_preflight}'"
cdktf_args=()
for arg in "$@"; do
  if [[ "${arg}" == --skip-preflight ]]; then skip_preflight=1; else cdktf_args+=("${arg}"); fi
done
set -- "${cdktf_args[@]}"
if [[ "${command}" == deploy ]]; then
  if [[ "${skip_preflight}" == 1 ]]; then
    log "preflight skipped (--skip-preflight or K8S_LAB_SKIP_PREFLIGHT=1)"
  else
    node --require ./scripts/register-ts.js scripts/preflight.ts
  fi
fi

load_tools_env
export CHECKPOINT_DISABLE=1
node --require ./scripts/register-ts.js scripts/check-spec.ts
exec npx cdktf "${command}" --skip-provider-lock "$@"
