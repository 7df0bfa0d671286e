#!/usr/bin/env bash
# npm run synth: the Terraform (cdktf.out/stacks/<cluster>/cdk.tf.json) and the workload
# manifests (dist/*.k8s.yaml) of the cluster spec (CLUSTER_CONFIG, else cluster.yaml, else the
# default). An invalid spec stops it before anything is written.
# K8S_LAB_CDKTF_OUT and K8S_LAB_CDK8S_OUT move the two output folders (npm run bench does).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "${ROOT}"
export CHECKPOINT_DISABLE=1
# The tools are optional here (synth needs no Terraform), but when `npm run tools` has run, use
# its CLI config so cdktf's version probe of terraform does not warn about ~/.terraformrc.
if [[ -f "${TOOLS_DIR}/env" ]]; then load_tools_env; fi
cdktf_out="${K8S_LAB_CDKTF_OUT:-cdktf.out}"
cdk8s_out="${K8S_LAB_CDK8S_OUT:-dist}"

# Two processes, one per CLI, each started by node itself rather than npx (which loads npm first).
# The spec check (scripts/check-spec.ts) is preloaded into the cdktf CLI's process: an invalid spec
# ends that process with every problem, before the CLI starts, so neither output is touched (cdk8s
# synth empties dist/ before it runs its app).
node --require ./scripts/register-ts.js --require ./scripts/check-spec.ts \
  node_modules/cdktf-cli/bundle/bin/cdktf synth --output "${cdktf_out}"
node node_modules/cdk8s-cli/bin/cdk8s synth --output "${cdk8s_out}" --no-check-upgrade
