#!/usr/bin/env bash
# Runs a command with the project's tools (.tools/env) in reach.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
load_tools_env
exec "$@"
