#!/usr/bin/env bash
# Builds terraform-provider-libvirt from the Go module proxy (tools/libvirt-provider pins it and
# repeats the replaces of its go.mod) and lays it out as a Terraform filesystem mirror.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

version="0.8.3"
module_dir="${ROOT}/tools/libvirt-provider"
bin="${TOOLS_DIR}/build/terraform-provider-libvirt_v${version}"
stamp="${bin}.stamp"
want_stamp="$(cat "${module_dir}/go.mod" "${module_dir}/go.sum" | sha256sum | cut -d' ' -f1)"

if [[ -x "${bin}" && -f "${stamp}" && "$(cat "${stamp}")" == "${want_stamp}" ]]; then
  log "libvirt provider v${version}: already built"
else
  need go "install Go (https://go.dev/doc/install) to build the libvirt provider"
  log "libvirt provider v${version}: building from the Go module proxy"
  mkdir -p "$(dirname "${bin}")"
  (cd "${module_dir}" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath -o "${bin}.tmp" \
    github.com/dmacvicar/terraform-provider-libvirt)
  mv "${bin}.tmp" "${bin}"
  echo "${want_stamp}" >"${stamp}"
fi

# One mirror entry per default registry host: Terraform's and OpenTofu's resolve
# `dmacvicar/libvirt` to different hosts.
for host in registry.terraform.io registry.opentofu.org; do
  dir="${TOOLS_DIR}/providers/${host}/dmacvicar/libvirt/${version}/linux_amd64"
  mkdir -p "${dir}"
  cmp -s "${bin}" "${dir}/terraform-provider-libvirt_v${version}" || install -m 0755 "${bin}" "${dir}/terraform-provider-libvirt_v${version}"
done
