#!/usr/bin/env bash
# Installs or builds every tool the tests need, from registries this project can reach,
# and writes .tools/env: `source .tools/env` puts exactly these tools in a shell's reach.
# Idempotent: a second run only checks.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# Checked first, before anything is built or written: the CLI config below is HCL, because Terraform
# reads provider_installation only in HCL (its JSON form is rejected: "Invalid provider_installation
# method block"), so the one value in it, this folder's path, must need no HCL escaping.
# shellcheck disable=SC1003,SC2016 # literal characters, matched as such
case "${TOOLS_DIR}" in
  *'"'* | *'\'* | *'${'* | *'%{'*)
    die "the project's path must not contain '\"', '\\', '\${' or '%{' (it is written into .tools/terraformrc), got '${TOOLS_DIR}'" ;;
esac
mkdir -p "${TOOLS_DIR}/bin"

"${ROOT}/scripts/tools/debian-packages.sh"
"${ROOT}/scripts/tools/libvirt-provider.sh"
"${ROOT}/scripts/tools/kubernetes-binaries.sh"
"${ROOT}/scripts/tools/kubeconform.sh"
tf_binary="$("${ROOT}/scripts/tools/terraform-cli.sh")"

# A CLI config of our own: providers come from the local mirror only, never a registry.
cat >"${TOOLS_DIR}/terraformrc" <<HCL
provider_installation {
  filesystem_mirror {
    path    = "${TOOLS_DIR}/providers"
    include = ["registry.terraform.io/dmacvicar/libvirt", "registry.opentofu.org/dmacvicar/libvirt"]
  }
  direct {
    exclude = ["registry.terraform.io/dmacvicar/libvirt", "registry.opentofu.org/dmacvicar/libvirt"]
  }
}
plugin_cache_dir = "${TOOLS_DIR}/plugin-cache"
HCL
mkdir -p "${TOOLS_DIR}/plugin-cache"

{
  echo "# Written by scripts/tools.sh; source it to use the project's tools."
  # shellcheck disable=SC2016 # $PATH is for the shell that sources the file
  printf 'export PATH=%q:"$PATH"\n' "${TOOLS_DIR}/bin"
  printf 'export TF_CLI_CONFIG_FILE=%q\n' "${TOOLS_DIR}/terraformrc"
  printf 'export TERRAFORM_BINARY_NAME=%q\n' "${tf_binary}"
  echo 'export CHECKPOINT_DISABLE=1'
} >"${TOOLS_DIR}/env"
log "wrote ${TOOLS_DIR}/env"
