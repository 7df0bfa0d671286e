#!/usr/bin/env bash
# Builds a real kubectl from the Go module proxy into .tools/bin/kubectl, with the wrapper module
# kubeadm is built with (tools/kubeadm: it requires k8s.io/kubernetes = DEFAULT_KUBERNETES_VERSION and
# replaces the staging modules with their published v0.MINOR.PATCH), so kubeadm, kubectl and its
# built-in kustomize are those of the pinned release. Idempotent: skips when the binary exists and
# was built from the same go.mod, go.sum and this script. Builds at nice 19 (others share the CPUs).
set -euo pipefail
# shellcheck source=../lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/../lib.sh"

module_dir="${ROOT}/tools/kubeadm"
bin="${TOOLS_DIR}/bin/kubectl"
stamp="${TOOLS_DIR}/build/kubectl.stamp"
want_stamp="$(cat "${module_dir}/go.mod" "${module_dir}/go.sum" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"

# The pinned release, e.g. v1.36.3, from the one `require k8s.io/kubernetes vX` line.
version="$(sed -n 's/^require k8s\.io\/kubernetes \(v[0-9][0-9.]*\)$/\1/p' "${module_dir}/go.mod")"
[[ "${version}" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] ||
  die "tools/kubeadm/go.mod must have one line 'require k8s.io/kubernetes v1.MINOR.PATCH', got '${version}'"
minor="${BASH_REMATCH[1]}"

if [[ -x "${bin}" && -f "${stamp}" && "$(cat "${stamp}")" == "${want_stamp}" ]]; then
  log "kubectl ${version}: already built"
  exit 0
fi

need go "install Go (https://go.dev/doc/install) to build kubectl"
log "kubectl ${version}: building from the Go module proxy (several minutes, nice 19)"
mkdir -p "$(dirname "${bin}")" "$(dirname "${stamp}")"
cd "${module_dir}"
# -mod=readonly: go.mod/go.sum already list kubectl's modules (tools.go imports cmd/kubectl); a build
# that needed more would fail here instead of editing them.
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly

# A plain build leaves the version stamps at v0.0.0 (`kubectl version --client` would say so): set
# the ones the release build (hack/lib/version.sh) sets, in both version packages, as kubeadm.sh
# does. The build date is the release's publication time, so rebuilds are reproducible.
release_time="$(go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
ldflags=()
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=(
    "-X ${pkg}.gitVersion=${version}"
    "-X ${pkg}.gitMajor=1"
    "-X ${pkg}.gitMinor=${minor}"
    "-X ${pkg}.gitCommit="
    "-X ${pkg}.gitTreeState=clean"
    "-X ${pkg}.buildDate=${release_time}"
  )
done
nice -n 19 go build -trimpath -ldflags "${ldflags[*]}" -o "${bin}.tmp" k8s.io/kubernetes/cmd/kubectl
mv "${bin}.tmp" "${bin}"

built="$("${bin}" version --client -o json)"
[[ "${built}" == *"\"gitVersion\": \"${version}\""* ]] || die "built kubectl does not report ${version}: ${built}"
echo "${want_stamp}" >"${stamp}"
log "kubectl ${version}: built ($("${bin}" version --client | tr '\n' ' '))"
