#!/usr/bin/env bash
# npm run image: builds the k8s-lab node image from the registries this project reaches — a Debian
# root filesystem (mmdebstrap, Debian's packages) with containerd, cloud-init, HAProxy and keepalived,
# the pinned Kubernetes release built from the Go module proxy, and every container image kubeadm,
# the CNI (flannel) and the workloads (agnhost) need, each an archive `ctr images import` accepts.
#
# Outputs, in the cache outside the clone (K8S_LAB_CACHE_DIR, default ~/.cache/k8s-lab), keyed by every
# input: node-image/<key>/rootfs.tar and image-manifest.json (component → version → sha256). The
# manifest is printed, and .tools/node-image links to the folder. Each part (Go binaries per module,
# pause, the images' Debian base, the archives, the rootfs) is cached by its own inputs, so a second
# run, or a fresh clone with the same inputs, is a cache hit in seconds.
set -euo pipefail
# shellcheck source=../lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/../lib.sh"
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

IMAGE_DIR="${ROOT}/scripts/image"
K8S_MODULE="${ROOT}/tools/kubeadm"
# The Debian release of the node rootfs and of the images' base layer.
SUITE=bookworm
# Packages of the node rootfs: what systemd, cloud-init and every rendered step call.
NODE_PACKAGES=(
  systemd systemd-sysv dbus udev locales cloud-init openssh-server sudo
  containerd runc containernetworking-plugins
  iptables nftables conntrack ebtables ethtool socat iproute2 kmod procps
  ca-certificates curl openssl haproxy keepalived
)
# The images' base layer (like upstream's distroless-iptables): kube-proxy and flanneld program
# iptables, and flannel's init containers run `cp`.
BASE_PACKAGES=(iptables conntrack ipset kmod)
# Every file build_rootfs copies into the rootfs (all of files/), in a stable order: each is an input of the key.
mapfile -t STAGE_FILES < <(find "${IMAGE_DIR}/files" -type f | LC_ALL=C sort)

need mmdebstrap "run 'npm run tools' (Debian package mmdebstrap)"
need gcc "install gcc (Debian package gcc) to build pause"
# The compilers are inputs too: a new Go or gcc builds the binaries again, as Go's own cache would.
go_version="$(GOTOOLCHAIN=local go env GOVERSION)"
MODCACHE="$(GOTOOLCHAIN=local go env GOMODCACHE)"
cc_version="gcc $(gcc -dumpfullversion)"

# ---- versions: the wrapper modules pin them; kubeadm decides which images it wants ----
k8s_version="$(module_version "${K8S_MODULE}" k8s.io/kubernetes)"
[[ "${k8s_version}" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || die "tools/kubeadm/go.mod must require k8s.io/kubernetes v1.MINOR.PATCH, got '${k8s_version}'"
k8s_minor="${BASH_REMATCH[1]}"
spec_version="v$(node --require "${ROOT}/scripts/register-ts.js" "${IMAGE_DIR}/spec-version.ts")"
[[ "${spec_version}" == "${k8s_version}" ]] ||
  die "the spec's kubernetes.version is ${spec_version#v}, but the node image builds Kubernetes ${k8s_version} (tools/kubeadm/go.mod); change the spec, or that module's require and replaces, so they agree"
etcd_version="$(module_version "${ROOT}/tools/etcd" go.etcd.io/etcd/server/v3)"
coredns_version="$(module_version "${ROOT}/tools/coredns" github.com/coredns/coredns)"
flannel_version="$(module_version "${ROOT}/tools/flannel" github.com/flannel-io/flannel)"
flannel_cni_version="$(module_version "${ROOT}/tools/flannel-cni-plugin" github.com/containernetworking/plugins)"
log "Kubernetes ${k8s_version}, etcd ${etcd_version}, CoreDNS ${coredns_version}, flannel ${flannel_version} (CNI plugin from containernetworking/plugins ${flannel_cni_version})"

# ---- Go binaries, one cache entry per wrapper module ----
build_kubernetes() {
  local release_time pkg ldflags=() name
  release_time="$(cd "${K8S_MODULE}" && GOTOOLCHAIN=local go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
  # The stamps the release build sets (hack/lib/version.sh); kubeadm compares versions with its own.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=("-X ${pkg}.gitVersion=${k8s_version}" "-X ${pkg}.gitMajor=1" "-X ${pkg}.gitMinor=${k8s_minor}"
      "-X ${pkg}.gitCommit=" "-X ${pkg}.gitTreeState=clean" "-X ${pkg}.buildDate=${release_time}")
  done
  for name in kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
    CGO_ENABLED=0 go_build "${K8S_MODULE}" "${OUT}/${name}" "k8s.io/kubernetes/cmd/${name}" -ldflags "${ldflags[*]}"
  done
  CGO_ENABLED=0 go_build "${K8S_MODULE}" "${OUT}/agnhost" k8s.io/kubernetes/test/images/agnhost
}
build_etcd() {
  local name
  for name in server etcdctl etcdutl; do
    CGO_ENABLED=0 go_build "${ROOT}/tools/etcd" "${OUT}/${name/server/etcd}" "go.etcd.io/etcd/${name}/v3"
  done
}
build_coredns() { CGO_ENABLED=0 go_build "${ROOT}/tools/coredns" "${OUT}/coredns" github.com/coredns/coredns; }
build_flannel() {
  # flanneld needs cgo (upstream builds it so too); the CNI plugin is static.
  CGO_ENABLED=1 go_build "${ROOT}/tools/flannel" "${OUT}/flanneld" github.com/flannel-io/flannel \
    -ldflags "-X github.com/flannel-io/flannel/pkg/version.Version=${flannel_version}"
  # kube-flannel.yml's install-cni init container runs /opt/bin/install-conf of the flannel image.
  CGO_ENABLED=0 go_build "${ROOT}/tools/flannel" "${OUT}/install-conf" github.com/flannel-io/flannel/cmd/install_conf
  CGO_ENABLED=0 go_build "${ROOT}/tools/flannel-cni-plugin" "${OUT}/flannel" github.com/containernetworking/plugins/plugins/meta/flannel
}
build_image_builder() { CGO_ENABLED=0 go_build "${ROOT}/tools/image-builder" "${OUT}/image-builder" k8s-lab/tools/image-builder; }
# pause from the C source k8s.io/kubernetes ships (build/pause/linux/pause.c), with its Makefile's flags.
build_pause() {
  local src
  src="$(module_source "${K8S_MODULE}" k8s.io/kubernetes)/build/pause"
  log "gcc pause ${pause_version} (${src#"$(go env GOMODCACHE)/"})"
  [[ "$(sed -n 's/^TAG ?= //p' "${src}/Makefile")" == "${pause_version}" ]] ||
    die "k8s.io/kubernetes ${k8s_version} ships pause $(sed -n 's/^TAG ?= //p' "${src}/Makefile"), but kubeadm wants ${pause_version}"
  gcc -Os -Wall -Werror -static -DVERSION="v${pause_version}" -o "${OUT}/pause" "${src}/linux/pause.c"
}

mod_files() { echo "${ROOT}/tools/$1/go.mod" "${ROOT}/tools/$1/go.sum"; }
# recipe FUNCTION...: the functions' own text, so a cache entry is keyed by exactly the code that
# builds it (editing one recipe rebuilds that part only).
recipe() { declare -f "$@"; }
# shellcheck disable=SC2046 # word splitting of mod_files is intended
{
  k8s_bin="${IMAGE_CACHE}/bin/kubernetes-$(key_of "${go_version}" $(mod_files kubeadm) "$(recipe build_kubernetes go_build)")"
  etcd_bin="${IMAGE_CACHE}/bin/etcd-$(key_of "${go_version}" $(mod_files etcd) "$(recipe build_etcd go_build)")"
  coredns_bin="${IMAGE_CACHE}/bin/coredns-$(key_of "${go_version}" $(mod_files coredns) "$(recipe build_coredns go_build)")"
  flannel_bin="${IMAGE_CACHE}/bin/flannel-$(key_of "${go_version}" $(mod_files flannel) "${ROOT}"/tools/flannel/step-aside/*/go.mod $(mod_files flannel-cni-plugin) "$(recipe build_flannel go_build)")"
  builder_bin="${IMAGE_CACHE}/bin/image-builder-$(key_of "${go_version}" $(mod_files image-builder) "${ROOT}/tools/image-builder/main.go" "$(recipe build_image_builder go_build)")"
}
cached "${k8s_bin}" build_kubernetes
cached "${etcd_bin}" build_etcd
cached "${coredns_bin}" build_coredns
cached "${flannel_bin}" build_flannel
cached "${builder_bin}" build_image_builder

# ---- the images kubeadm asks for, by its own list ----
mapfile -t kubeadm_images < <("${k8s_bin}/kubeadm" config images list --kubernetes-version "${k8s_version}")
image_named() {
  local wanted="$1" image
  for image in "${kubeadm_images[@]}"; do
    [[ "${image}" == */"${wanted}":* ]] && { echo "${image}"; return 0; }
  done
  die "kubeadm ${k8s_version} lists no ${wanted} image: ${kubeadm_images[*]}"
}
etcd_image="$(image_named etcd)"
coredns_image="$(image_named coredns)"
pause_image="$(image_named pause)"
pause_version="${pause_image##*:}"
[[ "${etcd_image##*:}" == "${etcd_version#v}-"* ]] || die "kubeadm ${k8s_version} wants ${etcd_image}, but tools/etcd builds etcd ${etcd_version}"
[[ "${coredns_image##*:}" == "${coredns_version}" ]] || die "kubeadm ${k8s_version} wants ${coredns_image}, but tools/coredns builds CoreDNS ${coredns_version}"
# The module's source is immutable for its version: keyed by that (not by the module cache's path, which is HOME's).
pause_bin="${IMAGE_CACHE}/bin/pause-$(key_of "${pause_version}" "k8s.io/kubernetes ${k8s_version}" "${cc_version}" "$(recipe build_pause)")"
cached "${pause_bin}" build_pause

# The flannel manifest, unmodified from the flannel module, and the image names it uses.
flannel_manifest="$(module_source "${ROOT}/tools/flannel" github.com/flannel-io/flannel)/Documentation/kube-flannel.yml"
flannel_image="$(sed -n 's/^ *image: \(.*\/flannel:.*\)$/\1/p' "${flannel_manifest}" | sort -u)"
flannel_cni_upstream_image="$(sed -n 's/^ *image: \(.*\/flannel-cni-plugin:.*\)$/\1/p' "${flannel_manifest}" | sort -u)"
[[ "${flannel_image}" == *":${flannel_version}" ]] || die "kube-flannel.yml of ${flannel_version} names '${flannel_image}'"
# Our CNI plugin is not upstream's flannel-cni-plugin build, so it carries a name of its own; the
# prebaked CNI kustomization maps upstream's name to it (bootstrap/pinned-versions.ts).
flannel_cni_image="k8s-lab.local/flannel-cni-plugin:${flannel_cni_version}"
agnhost_image="registry.k8s.io/e2e-test-images/agnhost:$(cat "$(module_source "${K8S_MODULE}" k8s.io/kubernetes)/test/images/agnhost/VERSION")"

# ---- the images' Debian base layer ----
# mmdebstrap's hooks get the chroot's path as $1: single quotes keep it for mmdebstrap to expand.
# shellcheck disable=SC2016
build_base() {
  log "mmdebstrap ${SUITE} images' base: ${BASE_PACKAGES[*]}"
  SOURCE_DATE_EPOCH=0 mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${BASE_PACKAGES[*]}")" \
    --skip=output/dev --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
    "${SUITE}" "${OUT}/base.tar"
}
base_dir="${IMAGE_CACHE}/base/${SUITE}-$(key_of "${BASE_PACKAGES[@]}" "$(recipe build_base)")"
cached "${base_dir}" build_base

# ---- image archives ----
PATH_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
build_archives() {
  local b="${builder_bin}/image-builder" k
  mkdir -p "${OUT}/images"
  for k in kube-apiserver kube-controller-manager kube-scheduler; do
    "${b}" -tag "$(image_named "${k}")" -out "${OUT}/images/${k}.tar" -env "${PATH_ENV}" -add "${k8s_bin}/${k}:/usr/local/bin/${k}"
  done
  "${b}" -tag "$(image_named kube-proxy)" -out "${OUT}/images/kube-proxy.tar" -env "${PATH_ENV}" \
    -base "${base_dir}/base.tar" -add "${k8s_bin}/kube-proxy:/usr/local/bin/kube-proxy"
  "${b}" -tag "${etcd_image}" -out "${OUT}/images/etcd.tar" -env "${PATH_ENV}" \
    -add "${etcd_bin}/etcd:/usr/local/bin/etcd" -add "${etcd_bin}/etcdctl:/usr/local/bin/etcdctl" -add "${etcd_bin}/etcdutl:/usr/local/bin/etcdutl"
  "${b}" -tag "${coredns_image}" -out "${OUT}/images/coredns.tar" -env "${PATH_ENV}" -add "${coredns_bin}/coredns:/coredns" -entrypoint /coredns
  "${b}" -tag "${pause_image}" -out "${OUT}/images/pause.tar" -add "${pause_bin}/pause:/pause" -entrypoint /pause -user 65535:65535
  "${b}" -tag "${flannel_image}" -out "${OUT}/images/flannel.tar" -env "${PATH_ENV}" \
    -base "${base_dir}/base.tar" -add "${flannel_bin}/flanneld:/opt/bin/flanneld" -add "${flannel_bin}/install-conf:/opt/bin/install-conf" -entrypoint /opt/bin/flanneld
  "${b}" -tag "${flannel_cni_image}" -out "${OUT}/images/flannel-cni-plugin.tar" -env "${PATH_ENV}" \
    -base "${base_dir}/base.tar" -add "${flannel_bin}/flannel:/flannel"
  "${b}" -tag "${agnhost_image}" -out "${OUT}/images/agnhost.tar" -env "${PATH_ENV}" -add "${k8s_bin}/agnhost:/agnhost" -entrypoint /agnhost
}
archives_dir="${IMAGE_CACHE}/archives/$(key_of "${k8s_bin}" "${etcd_bin}" "${coredns_bin}" "${flannel_bin}" "${pause_bin}" "${builder_bin}" "${base_dir}" \
  "${kubeadm_images[@]}" "${flannel_image}" "${flannel_cni_image}" "${agnhost_image}" "$(recipe build_archives)")"
cached "${archives_dir}" build_archives

# ---- the node rootfs, and its manifest ----
# write_manifest FILE: the image's manifest (component → version → sha256), as JSON written by node.
write_manifest() {
  local name
  {
    for name in kubelet kubeadm kubectl; do
      printf 'component\t%s\t%s\t/usr/bin/%s\t%s\n' "${name}" "${k8s_version}" "${name}" "${k8s_bin}/${name}"
    done
    image_list | while IFS=$'\t' read -r name path; do
      printf 'image\t%s\t%s\t/opt/k8s-lab/images/%s\t%s\n' "${name}" "${name##*:}" "${path##*/}" "${path}"
    done
    printf 'cni\tflannel\t%s\t/opt/k8s-lab/cni/kube-flannel.yml\t%s\n' "${flannel_version}" "${flannel_manifest}"
    printf 'override\t%s\t%s\t%s\t-\n' "${flannel_cni_upstream_image%:*}" "${flannel_cni_image%:*}" "${flannel_cni_image##*:}"
  } | node "${IMAGE_DIR}/write-manifest.js" "${k8s_version#v}" >"$1"
}
# image_list: "NAME<TAB>ARCHIVE" for every archive, in the order kubeadm lists them, then the CNI's and agnhost.
image_list() {
  local k
  for k in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do printf '%s\t%s\n' "$(image_named "${k}")" "${archives_dir}/images/${k}.tar"; done
  printf '%s\t%s\n' "${coredns_image}" "${archives_dir}/images/coredns.tar" "${pause_image}" "${archives_dir}/images/pause.tar" \
    "${etcd_image}" "${archives_dir}/images/etcd.tar" "${flannel_image}" "${archives_dir}/images/flannel.tar" \
    "${flannel_cni_image}" "${archives_dir}/images/flannel-cni-plugin.tar" "${agnhost_image}" "${archives_dir}/images/agnhost.tar"
}
# shellcheck disable=SC2016 # mmdebstrap's hooks get the chroot's path as $1
build_rootfs() {
  local stage="${OUT}/stage"
  install -D -m 0755 -t "${stage}/usr/bin" "${k8s_bin}/kubelet" "${k8s_bin}/kubeadm" "${k8s_bin}/kubectl"
  install -D -m 0644 -t "${stage}/opt/k8s-lab/images" "${archives_dir}"/images/*.tar
  install -D -m 0644 "${flannel_manifest}" "${stage}/opt/k8s-lab/cni/kube-flannel.yml"
  (cd "${IMAGE_DIR}/files" && find . -type f -print0 | xargs -0 -I{} install -D -m 0644 {} "${stage}/{}")
  write_manifest "${OUT}/image-manifest.json"
  install -D -m 0644 "${OUT}/image-manifest.json" "${stage}/opt/k8s-lab/image-manifest.json"
  log "mmdebstrap ${SUITE} node rootfs: ${NODE_PACKAGES[*]}"
  # containerd's CNI bin_dir is /opt/cni/bin: link Debian's plugins there. HAProxy and keepalived
  # start only on the nodes whose bootstrap step configures them.
  SOURCE_DATE_EPOCH=0 mmdebstrap --quiet --variant=minbase --include="$(IFS=,; echo "${NODE_PACKAGES[*]}")" \
    --customize-hook="sync-in '${stage}' /" \
    --customize-hook='mkdir -p "$1/opt/cni/bin" && for p in "$1"/usr/lib/cni/*; do ln -sf "/usr/lib/cni/${p##*/}" "$1/opt/cni/bin/${p##*/}"; done' \
    --customize-hook='chroot "$1" systemctl disable haproxy.service keepalived.service' \
    --customize-hook='echo "LANG=C.UTF-8" > "$1/etc/default/locale"' \
    --customize-hook='rm -rf "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/*' \
    "${SUITE}" "${OUT}/rootfs.tar"
  rm -rf "${stage}"
}
node_key="$(key_of "${archives_dir}" "${k8s_bin}" "${flannel_manifest}" "${NODE_PACKAGES[@]}" "${STAGE_FILES[@]}" "${IMAGE_DIR}/write-manifest.js" "$(recipe build_rootfs write_manifest image_list)")"
node_dir="${IMAGE_CACHE}/node-image/${k8s_version}-${node_key}"
cached "${node_dir}" build_rootfs

trim_cache 14
mkdir -p "${TOOLS_DIR}"
ln -sfn "${node_dir}" "${TOOLS_DIR}/node-image"
cat "${node_dir}/image-manifest.json"
log "node image: ${node_dir}/rootfs.tar ($(du -h "${node_dir}/rootfs.tar" | cut -f1)), manifest beside it; ${TOOLS_DIR}/node-image links there"
