#!/usr/bin/env bash
# Builds a real kubeadm and kubectl from the Go module proxy into .tools/bin. Both come from one
# wrapper module, tools/kubeadm: it requires k8s.io/kubernetes (= DEFAULT_KUBERNETES_VERSION), replaces
# its staging modules with their published v0.MINOR.PATCH, and lists cmd/kubeadm and cmd/kubectl in
# tools.go, so kubeadm, kubectl and kubectl's built-in kustomize are those of the pinned release.
# Idempotent per binary: skips one that exists and was built from the same go.mod, go.sum and this
# script, by the Go that is installed now (when Go is installed: a machine with both binaries needs none). Builds at nice 19 (others share the CPUs), with the flags the node image's build uses
# (scripts/image/build.sh: CGO_ENABLED=0, -trimpath, -buildvcs=false), so the two share every compiled
# package in Go's build cache: with cgo on here, a cold cache compiled Kubernetes twice.
set -euo pipefail
# shellcheck source=../lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/../lib.sh"

module_dir="${ROOT}/tools/kubeadm"
want_inputs="$(cat "${module_dir}/go.mod" "${module_dir}/go.sum" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
# The image's cache key holds the Go version too: after a Go upgrade both rebuild, and stay byte-identical.
go_version=""
if command -v go >/dev/null 2>&1; then go_version="$(GOTOOLCHAIN=local go env GOVERSION)"; fi

# The pinned release, e.g. v1.36.3, from the one `require k8s.io/kubernetes vX` line.
version="$(sed -n 's/^require k8s\.io\/kubernetes \(v[0-9][0-9.]*\)$/\1/p' "${module_dir}/go.mod")"
[[ "${version}" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] ||
  die "tools/kubeadm/go.mod must have one line 'require k8s.io/kubernetes v1.MINOR.PATCH', got '${version}'"
minor="${BASH_REMATCH[1]}"

# A plain build leaves the version stamps at v0.0.0, and kubeadm compares kubernetesVersion with its
# own: set the stamps the release build (hack/lib/version.sh) sets, in both version packages. The
# build date is the release's publication time, so rebuilds are reproducible. Computed only when
# something is built, so a machine with both binaries needs no Go.
ldflags=()
release_ldflags() {
  ((${#ldflags[@]} == 0)) || return 0
  local release_time pkg
  release_time="$(cd "${module_dir}" && GOTOOLCHAIN=local go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
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
}

# build NAME VERSION_ARGS...: builds k8s.io/kubernetes/cmd/NAME into .tools/bin/NAME unless its stamp
# matches, then checks that `NAME VERSION_ARGS -o json` reports the pinned release.
build() {
  local name="$1"
  shift
  local bin="${TOOLS_DIR}/bin/${name}" stamp="${TOOLS_DIR}/build/${name}.stamp" built_inputs="" built_go=""
  # The stamp: the inputs' hash, then the Go version that built it.
  if [[ -f "${stamp}" ]]; then { read -r built_inputs || true; read -r built_go || true; } <"${stamp}"; fi
  if [[ -x "${bin}" && "${built_inputs}" == "${want_inputs}" && (-z "${go_version}" || "${built_go}" == "${go_version}") ]]; then
    log "${name} ${version}: already built"
    return
  fi
  need go "install Go (https://go.dev/doc/install) to build ${name}"
  log "${name} ${version}: building from the Go module proxy (several minutes the first time, nice 19)"
  mkdir -p "$(dirname "${bin}")" "$(dirname "${stamp}")"
  release_ldflags
  # -mod=readonly: go.mod/go.sum already list both commands' modules; a build that needed more would
  # fail here instead of editing them.
  (cd "${module_dir}" && GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
    nice -n 19 go build -trimpath -ldflags "${ldflags[*]}" -o "${bin}.tmp" "k8s.io/kubernetes/cmd/${name}")
  mv "${bin}.tmp" "${bin}"
  local reported
  reported="$("${bin}" version "$@" -o json)"
  [[ "${reported}" == *"\"gitVersion\": \"${version}\""* ]] || die "built ${name} does not report ${version}: ${reported}"
  printf '%s\n%s\n' "${want_inputs}" "${go_version}" >"${stamp}"
  log "${name} ${version}: built"
}

build kubeadm
build kubectl --client
