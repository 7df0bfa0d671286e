#!/usr/bin/env bash
# npm run synth: the Terraform (cdktf.out/stacks/<cluster>/cdk.tf.json) and the workload
# manifests (dist/*.k8s.yaml) of the cluster spec (CLUSTER_CONFIG, else cluster.yaml, else the
# default). An invalid spec stops it before anything is written.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "${ROOT}"
export CHECKPOINT_DISABLE=1
# The tools are optional here (synth needs no Terraform), but when `npm run tools` has run, use
# its CLI config so cdktf's version probe of terraform does not warn about ~/.terraformrc.
if [[ -f "${TOOLS_DIR}/env" ]]; then load_tools_env; fi

node --require ts-node/register/transpile-only scripts/check-spec.ts
npx cdktf synth --output cdktf.out
npx cdk8s synth --output dist --no-check-upgrade
