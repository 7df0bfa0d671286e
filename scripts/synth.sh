#!/usr/bin/env bash
# npm run synth: the Terraform (cdktf.out/stacks/<cluster>/cdk.tf.json) and the workload
# manifests (dist/*.k8s.yaml) of the cluster spec (CLUSTER_CONFIG, else cluster.yaml, else the
# default). An invalid spec stops it before anything is written.
# K8S_LAB_CDKTF_OUT and K8S_LAB_CDK8S_OUT move the two output folders (npm run bench does).
#
# The two apps are run directly, as the CLIs run them (cdktf.json's and cdk8s.yaml's `app`, with the
# output folder and context the CLIs pass in the environment), not through `cdktf synth` and
# `cdk8s synth`: the CLIs' own start-up is about 2 s and 0.7 s of UI, converters and jsii that synth
# never uses, and the apps write the same files byte for byte (a tools test compares them).
# `cdktf diff`/`deploy`/`destroy` still go through the cdktf CLI (npm run deploy), which synthesizes again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "${ROOT}"
cdktf_out="${K8S_LAB_CDKTF_OUT:-cdktf.out}"
cdk8s_out="${K8S_LAB_CDK8S_OUT:-dist}"

# cdktf.json's context, as `cdktf synth` hands it to the app.
cdktf_context="$(node -e 'process.stdout.write(JSON.stringify(require("./cdktf.json").context ?? {}))')"

# The spec check (scripts/check-spec.ts) is preloaded into the cdktf app's process: an invalid spec
# ends that process with every problem before the app builds anything, so neither output is touched.
CDKTF_OUTDIR="${cdktf_out}" CDKTF_CONTEXT_JSON="${cdktf_context}" \
  node --require ./scripts/register-ts.js --require ./scripts/check-spec.ts main.ts
log "wrote ${cdktf_out}/ (the Terraform of each stack under stacks/)"

# `cdk8s synth` empties its output folder before the app runs; the app writes only <chart>.k8s.yaml,
# so those are what a chart removed from the app must not leave behind.
mkdir -p "${cdk8s_out}"
find "${cdk8s_out}" -maxdepth 1 -type f -name '*.k8s.yaml' -delete
CDK8S_OUTDIR="${cdk8s_out}" node --require ./scripts/register-ts.js manifests/main.ts
log "wrote ${cdk8s_out}/: $(find "${cdk8s_out}" -maxdepth 1 -name '*.k8s.yaml' | wc -l) manifests"
