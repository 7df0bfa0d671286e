#!/usr/bin/env bash
# npm run synth: the Terraform (cdktf.out/stacks/<cluster>/cdk.tf.json) and the workload
# manifests (dist/*.k8s.yaml) of the cluster spec (CLUSTER_CONFIG, else cluster.yaml, else the
# default). An invalid spec stops it before anything is written.
# K8S_LAB_CDKTF_OUT and K8S_LAB_CDK8S_OUT move the two output folders (npm run bench does).
#
# The two apps are run directly, as the CLIs run them: each config file's `app` command (cdktf.json,
# cdk8s.yaml), started by a shell with the output folder (and for cdktf the context) the CLIs pass in
# the environment; not through `cdktf synth` and `cdk8s synth`, whose own start-up (about 2 s and 0.7 s
# of UI, converters and jsii that synth never uses) was most of synth's time. The apps write the same
# files byte for byte (a tools test compares them). `cdktf diff`/`deploy`/`destroy` still go through
# the cdktf CLI (npm run deploy), which synthesizes again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "${ROOT}"
cdktf_out="${K8S_LAB_CDKTF_OUT:-cdktf.out}"
cdk8s_out="${K8S_LAB_CDK8S_OUT:-dist}"

# Every output path is checked before either app runs: one refused half-way would leave one output new and
# the other old. Bad input exits 2, as a bad config file does.
refuse() { log "error: $*"; exit 2; }
# nearest_existing PATH: PATH, or its nearest ancestor that exists.
nearest_existing() {
  local p="$1"
  while [[ ! -e "${p}" ]]; do p="$(dirname "${p}")"; done
  printf '%s\n' "${p}"
}
# check_folder VAR PATH: PATH is a folder, or can become one (its nearest existing ancestor is a folder).
check_folder() {
  local p
  [[ ! -e "$2" || -d "$2" ]] || refuse "$1 must name a folder (or one to create), got '$2', which is a file"
  p="$(nearest_existing "$2")"
  [[ -d "${p}" ]] || refuse "$1 must name a folder (or one to create), got '$2', but '${p}' is a file"
}
check_folder K8S_LAB_CDKTF_OUT "${cdktf_out}"
check_folder K8S_LAB_CDK8S_OUT "${cdk8s_out}"
if [[ -n "${K8S_LAB_KUBECONFIG:-}" ]]; then
  [[ ! -d "${K8S_LAB_KUBECONFIG}" ]] ||
    refuse "K8S_LAB_KUBECONFIG must name the kubeconfig file to write, got '${K8S_LAB_KUBECONFIG}', which is a folder"
  p="$(nearest_existing "$(dirname "${K8S_LAB_KUBECONFIG}")")"
  [[ -d "${p}" ]] ||
    refuse "K8S_LAB_KUBECONFIG must name the kubeconfig file to write, got '${K8S_LAB_KUBECONFIG}', but '${p}' is a file, where a folder is needed"
fi

# What the CLIs read from their config files, one line each: cdktf's app and context, cdk8s's app.
# shellcheck disable=SC2016 # JavaScript, not shell
config="$(node -e '
  const fs = require("fs");
  // A missing or unparsable file ends here with its name and the parse error, not a stack trace.
  const read = (file, parse) => {
    try {
      return parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      console.error(`${file}: cannot be read: ${e.message}`);
      process.exit(2);
    }
  };
  const cdktf = read("cdktf.json", JSON.parse);
  const cdk8s = read("cdk8s.yaml", (text) => require("yaml").parse(text));
  for (const [file, app] of [["cdktf.json", cdktf?.app], ["cdk8s.yaml", cdk8s?.app]]) {
    if (typeof app !== "string" || app.trim() === "" || app.includes("\n")) {
      console.error(`${file}: app must be one command line, got ${JSON.stringify(app)}`);
      process.exit(2);
    }
  }
  console.log([cdktf.app, JSON.stringify(cdktf.context ?? {}), cdk8s.app].join("\n"));
')"
mapfile -t lines <<<"${config}"
cdktf_app="${lines[0]}" cdktf_context="${lines[1]}" cdk8s_app="${lines[2]}"

# The spec check (scripts/check-spec.ts, after the TypeScript hook it needs) is preloaded into the cdktf
# app's process: an invalid spec ends that process with every problem before the app builds anything,
# so neither output is touched.
CDKTF_OUTDIR="${cdktf_out}" CDKTF_CONTEXT_JSON="${cdktf_context}" \
  NODE_OPTIONS="${NODE_OPTIONS:-} --require ./scripts/register-ts.js --require ./scripts/check-spec.ts" \
  bash -c "${cdktf_app}"
log "wrote ${cdktf_out}/ (the Terraform of each stack under stacks/)"

# `cdk8s synth` empties its output folder before the app runs; the app writes only <chart>.k8s.yaml,
# so those are what a chart removed from the app must not leave behind.
mkdir -p "${cdk8s_out}"
find "${cdk8s_out}" -maxdepth 1 -type f -name '*.k8s.yaml' -delete
CDK8S_OUTDIR="${cdk8s_out}" bash -c "${cdk8s_app}"
log "wrote ${cdk8s_out}/: $(find "${cdk8s_out}" -maxdepth 1 -name '*.k8s.yaml' | wc -l) manifests"
