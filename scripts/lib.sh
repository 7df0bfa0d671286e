# shellcheck shell=bash
# Helpers shared by the project's scripts. Source it; it defines functions only.

# The repository root, whatever the caller's working directory.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# Everything the tools script builds or writes lives here (git-ignored).
TOOLS_DIR="${ROOT}/.tools"
export TOOLS_DIR

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# need TOOL HINT: fail with a message naming the tool and how to get it.
need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed; $2"
}

# Load .tools/env (written by `npm run tools`), or fail saying how to make it.
load_tools_env() {
  [[ -f "${TOOLS_DIR}/env" ]] || die "${TOOLS_DIR}/env is missing; run 'npm run tools' first"
  # shellcheck source=/dev/null
  source "${TOOLS_DIR}/env"
}
