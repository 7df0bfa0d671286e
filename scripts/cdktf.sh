#!/usr/bin/env bash
# npm run deploy / diff / destroy: cdktf with the project's tools (.tools/env: the local provider
# mirror) and the flags a machine without the Terraform registry needs:
#   --skip-provider-lock         cdktf would otherwise run `terraform providers lock`, which asks the
#                                registry; `terraform init` still writes the lock file from the mirror.
#   --terraform-parallelism 1    provider v0.8.3's read-back of cloud-init ISOs can hang or fail with
#                                "corrupted-image: EOF" (a go-libvirt stream race); one at a time makes
#                                it rarer, not impossible. If it strikes, run the command again: README,
#                                "A fault of the provider".
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
load_tools_env
export CHECKPOINT_DISABLE=1
node --require ts-node/register/transpile-only scripts/check-spec.ts
exec npx cdktf "${command}" --skip-provider-lock --terraform-parallelism 1 "$@"
