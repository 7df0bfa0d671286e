#!/usr/bin/env bash
# npm run get: regenerate .gen/ (the libvirt provider's TypeScript bindings) with `cdktf get`
# from the provider `npm run tools` built. Commit the result; a tools-tier test fails on drift.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "${ROOT}"
load_tools_env
npx cdktf get
