# shellcheck shell=bash
# Helpers of scripts/image/build.sh: a content-keyed cache outside the clone, and Go builds.
# Source it after scripts/lib.sh; it defines functions and the cache root only.

# Where built artifacts live between runs and across clones, keyed by their inputs (like Go's own
# build cache): K8S_LAB_CACHE_DIR, else $XDG_CACHE_HOME/k8s-lab, else ~/.cache/k8s-lab.
IMAGE_CACHE="${K8S_LAB_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/k8s-lab}"
export IMAGE_CACHE

# key_of WORD_OR_FILE...: a short sha256 over the arguments; a file counts by its name and content,
# anything else by its text. The same inputs give the same key on any machine and in any clone: a file's
# name is taken relative to the clone, or to the Go module cache (MODCACHE, when set).
key_of() {
  local arg name
  for arg in "$@"; do
    if [[ -f "${arg}" ]]; then
      name="${arg#"${ROOT}/"}"
      [[ -z "${MODCACHE:-}" ]] || name="${name#"${MODCACHE}/"}"
      printf 'file %s\n' "${name}"
      sha256sum <"${arg}"
    else
      printf 'word %s\n' "${arg}"
    fi
  done | sha256sum | cut -c1-16
}

# cached DIR FUNCTION ARGS...: unless DIR is complete, runs FUNCTION ARGS... with $OUT set to a fresh
# temporary folder beside DIR, then moves it to DIR. A failed or interrupted build leaves no DIR, so
# the next run builds again; nothing half-written is ever taken for a cache hit.
cached() {
  local dir="$1"
  shift
  if [[ -f "${dir}/.complete" ]]; then
    log "cache hit: ${dir#"${IMAGE_CACHE}/"}"
    touch "${dir}/.complete" # last used: trim_cache keeps what was used lately
    return 0
  fi
  local tmp
  mkdir -p "$(dirname "${dir}")"
  tmp="$(mktemp -d "${dir}.tmp.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: the trap must remove this run's folder
  trap "rm -rf '${tmp}'" EXIT
  OUT="${tmp}" "$@"
  touch "${tmp}/.complete"
  rm -rf "${dir}"
  mv "${tmp}" "${dir}"
  trap - EXIT
}

# go_build MODULE_DIR OUTPUT PACKAGE [GO BUILD FLAGS...]: builds PACKAGE from the wrapper module in
# MODULE_DIR (its go.mod/go.sum pin every version; -mod=readonly refuses a build that would edit
# them), reproducibly (-trimpath, no VCS stamp), at nice 19.
go_build() {
  local module_dir="$1" output="$2" package="$3"
  shift 3
  need go "install Go (https://go.dev/doc/install) to build the node image"
  log "go build ${package} (${module_dir#"${ROOT}/"})"
  (cd "${module_dir}" && GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" \
    nice -n 19 go build -trimpath "$@" -o "${output}" "${package}")
}

# module_version MODULE_DIR MODULE: the version MODULE_DIR's go.mod requires of MODULE.
module_version() {
  (cd "$1" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go list -m -f '{{.Version}}' "$2")
}

# module_dir MODULE_DIR MODULE: where the Go module cache holds MODULE's source.
module_source() {
  (cd "$1" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go mod download -json "$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
}

# trim_cache DAYS: removes cache entries not used for DAYS days, and temporary folders of builds that
# were killed more than a day ago, so the cache does not grow without bound as inputs change.
trim_cache() {
  local days="$1" part
  for part in bin base archives node-image; do
    [[ -d "${IMAGE_CACHE}/${part}" ]] || continue
    find "${IMAGE_CACHE}/${part}" -mindepth 2 -maxdepth 2 -name .complete -mtime "+${days}" -printf '%h\n' | xargs -r rm -rf
    find "${IMAGE_CACHE}/${part}" -mindepth 1 -maxdepth 1 -type d -name '*.tmp.*' -mtime +1 -exec rm -rf {} +
  done
}
