#!/usr/bin/env bash
# Picks the Terraform CLI: `terraform` from PATH when it is 1.5 or newer.
# Prints the binary's name (terraform or tofu) on stdout.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

min_minor=5
if command -v terraform >/dev/null 2>&1; then
  version="$(terraform version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p')"
  major="${version%%.*}"
  minor="$(echo "${version}" | cut -d. -f2)"
  if [[ -n "${version}" ]] && ((major > 1 || (major == 1 && minor >= min_minor))); then
    log "Terraform CLI: terraform ${version} from PATH"
    echo terraform
    exit 0
  fi
  log "Terraform CLI: terraform ${version:-of unknown version} on PATH is older than 1.${min_minor}"
fi
if [[ -x "${TOOLS_DIR}/bin/tofu" ]]; then
  log "Terraform CLI: OpenTofu from ${TOOLS_DIR}/bin"
  echo tofu
  exit 0
fi
need go "install Go, or put terraform >= 1.${min_minor} on PATH"
log "Terraform CLI: building OpenTofu from the Go module proxy"
module_dir="${ROOT}/tools/opentofu"
mkdir -p "${TOOLS_DIR}/bin"
(cd "${module_dir}" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath -o "${TOOLS_DIR}/bin/tofu.tmp" \
  github.com/opentofu/opentofu/cmd/tofu)
mv "${TOOLS_DIR}/bin/tofu.tmp" "${TOOLS_DIR}/bin/tofu"
echo tofu
