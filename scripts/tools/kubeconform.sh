#!/usr/bin/env bash
# Builds kubeconform from the Go module proxy (tools/kubeconform pins it) into .tools/bin, and
# generates, offline, the JSON schemas it validates against: the OpenAPI document in the Go module
# of k8s.io/kubernetes at the cluster spec's default Kubernetes version, converted by
# scripts/kubernetes-json-schemas/ into kubeconform's standalone-strict layout
# (.tools/kubernetes-schemas/v<version>-standalone-strict/<kind>-<group>-<version>.json).
# Idempotent: a second run only checks.
set -euo pipefail
# shellcheck source=../lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/../lib.sh"

module_dir="${ROOT}/tools/kubeconform"
bin="${TOOLS_DIR}/bin/kubeconform"
stamp="${TOOLS_DIR}/build/kubeconform.stamp"
want_stamp="$(cat "${module_dir}/go.mod" "${module_dir}/go.sum" | sha256sum | cut -d' ' -f1)"

mkdir -p "${TOOLS_DIR}/bin" "${TOOLS_DIR}/build"
if [[ -x "${bin}" && -f "${stamp}" && "$(cat "${stamp}")" == "${want_stamp}" ]]; then
  log "kubeconform: already built"
else
  need go "install Go (https://go.dev/doc/install) to build kubeconform"
  # The version go.mod pins, stamped into `kubeconform -v` (a plain build says "development").
  kc_version="$(sed -n 's/^require github.com\/yannh\/kubeconform \(v[0-9.]*\)$/\1/p' "${module_dir}/go.mod")"
  [[ -n "${kc_version}" ]] || die "${module_dir}/go.mod has no 'require github.com/yannh/kubeconform vX.Y.Z' line"
  log "kubeconform ${kc_version}: building from the Go module proxy"
  (cd "${module_dir}" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -trimpath -ldflags "-X main.version=${kc_version}" \
    -o "${bin}.tmp" github.com/yannh/kubeconform/cmd/kubeconform)
  mv "${bin}.tmp" "${bin}"
  echo "${want_stamp}" >"${stamp}"
fi

# The Kubernetes version is the spec's default, read at run time: whoever bumps it gets new schemas.
need node "install Node.js 20 or newer"
version="$(cd "${ROOT}" && node --require "${ROOT}/scripts/register-ts.js" \
  -e 'process.stdout.write(require("./spec/cluster-spec").DEFAULT_KUBERNETES_VERSION)')"
[[ "${version}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "DEFAULT_KUBERNETES_VERSION in spec/cluster-spec.ts is not MAJOR.MINOR.PATCH (got '${version}')"

schema_dir="${TOOLS_DIR}/kubernetes-schemas/v${version}-standalone-strict"
converter_dir="${ROOT}/scripts/kubernetes-json-schemas"
want_schemas="$(cat "${converter_dir}"/*.ts | sha256sum | cut -d' ' -f1)"
if [[ -f "${schema_dir}/.complete" && "$(cat "${schema_dir}/.complete")" == "${want_schemas}" ]]; then
  log "Kubernetes ${version} JSON schemas: already generated"
  exit 0
fi

need go "install Go (https://go.dev/doc/install) to fetch the Kubernetes OpenAPI document"
log "Kubernetes ${version} JSON schemas: fetching the module k8s.io/kubernetes@v${version}"
# `go mod download` outside any module: it only fetches (and checks against the checksum database).
module_json="$(cd "${TOOLS_DIR}/build" && GOTOOLCHAIN=local GOFLAGS='' GO111MODULE=on go mod download -json "k8s.io/kubernetes@v${version}")"
module_src="$(node -e 'const m = JSON.parse(process.argv[1]); if (m.Error) { console.error(m.Error); process.exit(1); } process.stdout.write(m.Dir)' "${module_json}")" \
  || die "could not download k8s.io/kubernetes@v${version} from the Go module proxy"
swagger="${module_src}/api/openapi-spec/swagger.json"
[[ -f "${swagger}" ]] || die "${swagger} is missing: k8s.io/kubernetes@v${version} has no api/openapi-spec/swagger.json"

log "Kubernetes ${version} JSON schemas: converting ${swagger}"
rm -rf "${schema_dir}.tmp"
(cd "${ROOT}" && node --require "${ROOT}/scripts/register-ts.js" "${converter_dir}/cli.ts" \
  --swagger "${swagger}" --out "${schema_dir}.tmp")
echo "${want_schemas}" >"${schema_dir}.tmp/.complete"
rm -rf "${schema_dir}"
mv "${schema_dir}.tmp" "${schema_dir}"
log "Kubernetes ${version} JSON schemas: $(find "${schema_dir}" -name '*.json' | wc -l) files in ${schema_dir}"
