#!/usr/bin/env bash
# The README's test command: install/build every tool, type-check, then run every test tier.
# Writes jest's JSON results to .tools/jest-results.json for .ci/run's summary line.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "${ROOT}"
rm -f "${TOOLS_DIR}/jest-results.json"

bash scripts/tools.sh
load_tools_env
log "the node image (npm run image): cached outside the clone by its inputs"
bash scripts/image/build.sh >/dev/null
log "type-check (tsc --noEmit)"
npx tsc --noEmit -p .
log "the user's path: npm run synth, then npm run validate (terraform validate with the provider built here)"
bash scripts/synth.sh
bash scripts/validate.sh
log "test tiers: unit, tools, live, deploy, e2e"
# --ci: a snapshot that is missing fails instead of being written (jest defaults to it only when CI is set).
npx jest --ci --runInBand --verbose --json --outputFile="${TOOLS_DIR}/jest-results.json" "$@"
