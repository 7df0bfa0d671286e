#!/usr/bin/env bash
# Builds the deploy tier's base image on the spot, with no download but Debian packages: a raw FAT
# disk that SYSLINUX boots (BIOS, serial console) into the Debian cloud kernel and a busybox
# initramfs whose /init (scripts/test-image/init) prints the SHA-256 of the NoCloud seed's user-data
# on the serial console, then brings up eth0 and keeps a DHCP lease — enough for libvirt's DHCP
# leases to show every node's address. Converted to qcow2.
#
# Prints the image's absolute path on stdout; logs go to stderr. Also leaves the kernel as
# .tools/test-image/vmlinuz (scripts/libvirtd.sh boots it to probe KVM). Cached under .tools/test-image/:
# rebuilt only when this script or a file in scripts/test-image/ changes (or the image is gone).
# Needs root only to run apt-get download when the kernel package is not cached yet.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

OUT_DIR="${TOOLS_DIR}/test-image"
IMAGE="${OUT_DIR}/k8s-lab-test.qcow2"
STAMP="${OUT_DIR}/k8s-lab-test.stamp"
INPUTS_DIR="${ROOT}/scripts/test-image"
# The kernel: Debian's cloud flavour (small; virtio as modules), through its meta package.
KERNEL_META_PACKAGE="linux-image-cloud-amd64"
# The modules init loads (with what they depend on, read from each module's `depends=`):
# virtio's PCI transport, NIC and block device, and ISO 9660 (init reads the NoCloud seed), built as
# modules in Debian's kernels.
MODULES=(virtio_pci virtio_net virtio_blk isofs)
FAT_SIZE_KIB=65536

for tool in apt-get dpkg-deb cpio gzip mkfs.vfat syslinux mcopy qemu-img sha256sum; do
  need "${tool}" "run 'npm run tools' (scripts/tools/debian-packages.sh installs it)"
done
SYSLINUX_MODULES=/usr/lib/syslinux/modules/bios
[[ -d "${SYSLINUX_MODULES}" ]] || die "${SYSLINUX_MODULES} is missing; run 'npm run tools' (package syslinux-common)"
# The busybox of package busybox-static: the initramfs has no libc to link against.
BUSYBOX=/bin/busybox
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' ||
  die "busybox-static is not installed; run 'npm run tools'"

# What the image is made from: this script and the files it puts in the image.
inputs_hash() {
  sha256sum "${BASH_SOURCE[0]}" "${INPUTS_DIR}"/* | sha256sum | cut -d' ' -f1
}
hash="$(inputs_hash)"
if [[ -f "${IMAGE}" && -f "${OUT_DIR}/vmlinuz" && -f "${STAMP}" && "$(<"${STAMP}")" == "${hash}" ]]; then
  log "test image up to date: ${IMAGE}"
  echo "${IMAGE}"
  exit 0
fi

mkdir -p "${OUT_DIR}"
work="$(mktemp -d "${OUT_DIR}/build.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

# 1. The kernel package, downloaded (not installed) once and kept beside the image.
kernel_package="$(apt-cache depends "${KERNEL_META_PACKAGE}" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')"
if [[ -z "${kernel_package}" ]]; then
  log "apt has no package lists for ${KERNEL_META_PACKAGE}; running apt-get update"
  apt-get update -qq
  kernel_package="$(apt-cache depends "${KERNEL_META_PACKAGE}" | awk '/Depends: linux-image-/ {print $2; exit}')"
fi
[[ -n "${kernel_package}" ]] || die "${KERNEL_META_PACKAGE} depends on no linux-image package (apt-cache depends)"
deb="$(find "${OUT_DIR}" -maxdepth 1 -name "${kernel_package}_*.deb" | sort | tail -1)"
if [[ -z "${deb}" ]]; then
  log "downloading ${kernel_package} (apt-get download)"
  # _apt cannot write into a root-only directory; let it, so the download stays sandboxed.
  chmod 0777 "${work}"
  (cd "${work}" && apt-get download -qq "${kernel_package}")
  find "${OUT_DIR}" -maxdepth 1 -name 'linux-image-*.deb' -delete
  mv "${work}/${kernel_package}"_*.deb "${OUT_DIR}/"
  chmod 0700 "${work}"
  deb="$(find "${OUT_DIR}" -maxdepth 1 -name "${kernel_package}_*.deb" | sort | tail -1)"
fi
dpkg-deb -x "${deb}" "${work}/kernel"
vmlinuz="$(find "${work}/kernel/boot" -name 'vmlinuz-*' | head -1)"
[[ -n "${vmlinuz}" ]] || die "no /boot/vmlinuz-* in ${deb}"
kernel_release="${vmlinuz##*/vmlinuz-}"
module_dir="${work}/kernel/lib/modules/${kernel_release}"

# 2. The initramfs: static busybox, /init, the udhcpc script and the virtio modules.
initramfs="${work}/initramfs"
mkdir -p "${initramfs}"/{bin,dev,etc,lib/modules,proc,sys,tmp}
cp "${BUSYBOX}" "${initramfs}/bin/busybox"
ln -s busybox "${initramfs}/bin/sh"
install -m 0755 "${INPUTS_DIR}/init" "${initramfs}/init"
install -m 0755 "${INPUTS_DIR}/udhcpc.script" "${initramfs}/etc/udhcpc.script"
# Post-order walk of `depends=` (the .modinfo of each .ko): dependencies before dependents,
# written to lib/modules/load-order, which init follows.
declare -A added=()
add_module() {
  local module="$1" ko deps dep
  [[ -z "${added[${module}]:-}" ]] || return 0
  added[${module}]=1
  ko="$(find "${module_dir}" -name "${module}.ko" | head -1)"
  [[ -n "${ko}" ]] || die "module ${module}.ko is not in ${kernel_package}"
  deps="$(grep -a -o -m1 'depends=[A-Za-z0-9_,-]*' "${ko}" | head -1 | cut -d= -f2)"
  for dep in ${deps//,/ }; do add_module "${dep}"; done
  cp "${ko}" "${initramfs}/lib/modules/"
  echo "${module}" >>"${initramfs}/lib/modules/load-order"
}
for module in "${MODULES[@]}"; do add_module "${module}"; done
(cd "${initramfs}" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9 >"${work}/initrd.gz"

# 3. A FAT filesystem as the whole disk (no partition table: the BIOS runs SYSLINUX's boot
#    sector at sector 0), SYSLINUX installed through mtools, so nothing is mounted.
cat >"${work}/syslinux.cfg" <<'CFG'
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL vmlinuz
  APPEND initrd=initrd.gz console=ttyS0,115200 panic=10
CFG
raw="${work}/disk.raw"
mkfs.vfat -C -n K8SLABTEST "${raw}" "${FAT_SIZE_KIB}" >/dev/null
syslinux --install "${raw}"
mcopy -i "${raw}" "${vmlinuz}" ::vmlinuz
mcopy -i "${raw}" "${work}/initrd.gz" ::initrd.gz
mcopy -i "${raw}" "${work}/syslinux.cfg" ::syslinux.cfg

# 4. qcow2, the format the cluster's base volume declares.
qemu-img convert -f raw -O qcow2 "${raw}" "${work}/image.qcow2"
mv "${work}/image.qcow2" "${IMAGE}"
# The kernel alone too: scripts/libvirtd.sh boots it under KVM to find out whether KVM works.
cp "${vmlinuz}" "${OUT_DIR}/vmlinuz"
echo "${hash}" >"${STAMP}"
log "built ${IMAGE} (${kernel_package}, busybox $("${BUSYBOX}" | head -1 | awk '{print $2}'))"
echo "${IMAGE}"
