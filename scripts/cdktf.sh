#!/usr/bin/env bash
# npm run deploy / diff / destroy: cdktf with the project's tools (.tools/env: the local provider
# mirror) and the flags a machine without the Terraform registry needs:
#   --skip-provider-lock   cdktf would otherwise run `terraform providers lock`, which asks the
#                          registry; `terraform init` still writes the lock file from the mirror.
# Terraform runs at its default parallelism: the NoCloud seeds are plain volumes, which provider
# v0.8.3 never downloads back (README, "A fault of the provider": measured by npm run bench:fault).
# Usage: scripts/cdktf.sh deploy|diff|destroy [more cdktf flags, e.g. --auto-approve]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "${ROOT}"

command="${1:-}"
case "${command}" in
  deploy | destroy | diff) shift ;;
  *) die "the first argument must be one of deploy, diff, destroy; got '${command}'" ;;
esac
load_tools_env
export CHECKPOINT_DISABLE=1
node --require ts-node/register/transpile-only scripts/check-spec.ts
exec npx cdktf "${command}" --skip-provider-lock "$@"
