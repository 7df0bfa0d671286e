#!/usr/bin/env bash
# npm run validate: `terraform init` + `terraform validate` of every synthesized stack, with the
# real libvirt provider from the local mirror (.tools/env). Run `npm run synth` first.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "${ROOT}"
load_tools_env
tf="${TERRAFORM_BINARY_NAME:-terraform}"

shopt -s nullglob
stacks=(cdktf.out/stacks/*/)
((${#stacks[@]} > 0)) || die "no stacks under cdktf.out/stacks; run 'npm run synth' first"
for dir in "${stacks[@]}"; do
  log "${dir}: ${tf} init"
  "${tf}" -chdir="${dir}" init -input=false -no-color >"${dir}/init.log" 2>&1 || { cat "${dir}/init.log" >&2; die "${tf} init failed in ${dir}"; }
  grep -h "Installed dmacvicar/libvirt" "${dir}/init.log" >&2 || true
  log "${dir}: ${tf} validate (provider: ${TF_CLI_CONFIG_FILE}'s local mirror)"
  "${tf}" -chdir="${dir}" validate -no-color
done
