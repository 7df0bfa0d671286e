#!/usr/bin/env bash
# Picks the Terraform CLI and prints its name (terraform or tofu) on stdout; logs go to stderr.
#
# K8S_LAB_TERRAFORM chooses:
#   auto (default)  `terraform` from PATH when it is 1.5 or newer, else OpenTofu (built here)
#   terraform       `terraform` from PATH, which must be 1.5 or newer
#   tofu            OpenTofu, built from the Go module proxy (tools/opentofu pins it) into
#                   .tools/bin/tofu; rebuilt only when tools/opentofu's go.mod/go.sum change
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

min_minor=5
choice="${K8S_LAB_TERRAFORM:-auto}"
case "${choice}" in
  auto | terraform | tofu) ;;
  *) die "K8S_LAB_TERRAFORM must be one of auto, terraform, tofu; got '${choice}'" ;;
esac

# terraform_from_path: succeeds when PATH has terraform >= 1.min_minor. Only ever called as an
# `if` condition, where errexit is off, so it does nothing that must stop the script on failure.
terraform_from_path() {
  if ! command -v terraform >/dev/null 2>&1; then
    log "Terraform CLI: no terraform on PATH"
    return 1
  fi
  local version major minor
  version="$(terraform version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p')"
  major="${version%%.*}"
  minor="$(echo "${version}" | cut -d. -f2)"
  if [[ -n "${version}" ]] && ((major > 1 || (major == 1 && minor >= min_minor))); then
    log "Terraform CLI: terraform ${version} from PATH"
    return 0
  fi
  log "Terraform CLI: terraform ${version:-of unknown version} on PATH is older than 1.${min_minor}"
  return 1
}

# opentofu_built_here: builds .tools/bin/tofu unless the stamp says it matches tools/opentofu.
opentofu_built_here() {
  local module_dir="${ROOT}/tools/opentofu"
  local bin="${TOOLS_DIR}/bin/tofu"
  local stamp="${TOOLS_DIR}/build/tofu.stamp"
  # The flags of OpenTofu's release builds (its .goreleaser.yaml): version.dev=no makes
  # `tofu version` say 1.x.y rather than 1.x.y-dev.
  local ldflags="-s -w -X github.com/opentofu/opentofu/version.dev=no"
  local want_stamp
  want_stamp="$( (cat "${module_dir}/go.mod" "${module_dir}/go.sum" && echo "${ldflags}") | sha256sum | cut -d' ' -f1)"

  if [[ -x "${bin}" && -f "${stamp}" && "$(cat "${stamp}")" == "${want_stamp}" ]]; then
    log "Terraform CLI: OpenTofu already built in ${bin}"
  else
    need go "install Go (https://go.dev/doc/install) to build OpenTofu, or put terraform >= 1.${min_minor} on PATH"
    log "Terraform CLI: building OpenTofu from the Go module proxy (takes minutes the first time)"
    mkdir -p "${TOOLS_DIR}/bin" "$(dirname "${stamp}")"
    local tmp
    tmp="$(mktemp "${bin}.XXXXXX")"
    if ! (cd "${module_dir}" && GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 \
      go build -trimpath -ldflags "${ldflags}" -o "${tmp}" github.com/opentofu/opentofu/cmd/tofu); then
      rm -f "${tmp}"
      die "building OpenTofu in ${module_dir} failed"
    fi
    chmod 0755 "${tmp}"
    mv "${tmp}" "${bin}"
    echo "${want_stamp}" >"${stamp}"
  fi
  # `tofu version` prints CLI-config warnings on stdout, before the JSON.
  local version
  version="$("${bin}" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p')"
  [[ -n "${version}" ]] || die "${bin} does not run: 'tofu version -json' printed no version"
  log "Terraform CLI: OpenTofu ${version} from ${TOOLS_DIR}/bin"
  echo tofu
}

if [[ "${choice}" != tofu ]] && terraform_from_path; then
  echo terraform
elif [[ "${choice}" == terraform ]]; then
  die "K8S_LAB_TERRAFORM=terraform needs terraform >= 1.${min_minor} on PATH"
else
  opentofu_built_here
fi
