#!/usr/bin/env bash
# Starts libvirt's daemons directly (no systemd here): virtlogd, then libvirtd, each only when it
# is not already running, and waits (bounded) until `virsh -c qemu:///system` answers.
#
# Usage: scripts/libvirtd.sh [KERNEL]
#   KERNEL  a bzImage booted under KVM to prove KVM runs ordinary guests
#           (default: .tools/test-image/vmlinuz from scripts/make-test-image.sh, when built)
#
# K8S_LAB_LIBVIRTD_STARTED=FILE: append `NAME PID` to FILE for each daemon this run started (not for one that
# already ran), so a test tier can stop exactly what it started.
#
# Prints one word on stdout, the domain type VMs can use on this machine:
#   kvm   KVM really works (a kernel booted under it, as QEMU runs for libvirt, and libvirt agrees)
#   qemu  it does not, or there was no kernel to prove it: use emulation (slower, but correct)
# Everything else goes to stderr. Installs nothing: `npm run tools` does (scripts/tools/debian-packages.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

URI="qemu:///system"
WAIT_SECONDS=30
# The kernel the KVM probe boots (a bzImage): the first argument, else the test image's.
PROBE_KERNEL="${1:-}"
if [[ -z "${PROBE_KERNEL}" && -f "${TOOLS_DIR}/test-image/vmlinuz" ]]; then PROBE_KERNEL="${TOOLS_DIR}/test-image/vmlinuz"; fi
# A kernel boots to its root-mount panic in ~1 s under KVM (~3 s even under emulation).
KVM_BOOT_SECONDS=20

for tool in libvirtd virtlogd virsh qemu-system-x86_64 dnsmasq iptables; do
  need "${tool}" "run 'npm run tools' (scripts/tools/debian-packages.sh installs the libvirt, QEMU and dnsmasq packages)"
done
[[ $(id -u) -eq 0 ]] || die "starting libvirtd for ${URI} needs root"

# alive PIDFILE: the daemon that wrote PIDFILE still runs.
alive() {
  local pid
  [[ -s "$1" ]] || return 1
  pid="$(<"$1")"
  [[ "${pid}" =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null
}

# start NAME PIDFILE: start daemon NAME in the background unless it already runs.
started=()
start() {
  if alive "$2"; then
    log "$1 already running (pid $(<"$2"))"
  else
    log "starting $1"
    "$1" -d
    started+=("$1 $2")
  fi
}

start virtlogd /run/virtlogd.pid
start libvirtd /run/libvirtd.pid

deadline=$((SECONDS + WAIT_SECONDS))
until virsh -c "${URI}" uri >/dev/null 2>&1; do
  ((SECONDS < deadline)) || die "libvirtd did not answer on ${URI} within ${WAIT_SECONDS}s: $(virsh -c "${URI}" uri 2>&1 | tail -1)"
  sleep 0.5
done
log "libvirtd answers on ${URI}"
if [[ -n "${K8S_LAB_LIBVIRTD_STARTED:-}" ]]; then
  for daemon in "${started[@]}"; do
    read -r name pidfile <<<"${daemon}"
    alive "${pidfile}" && echo "${name} $(<"${pidfile}")" >>"${K8S_LAB_LIBVIRTD_STARTED}"
  done
fi

# The user libvirt runs QEMU as (qemu.conf `user`, Debian's default libvirt-qemu, in group kvm).
QEMU_USER="$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' /etc/libvirt/qemu.conf | tail -1)"
QEMU_USER="${QEMU_USER:-libvirt-qemu}"

# Without udev, /dev/kvm keeps the kernel's 0600 root:root, so QEMU running as ${QEMU_USER} cannot
# open it (and libvirt, noticing, re-probes QEMU on every capabilities call). Apply what udev's
# 50-udev-default.rules does on a normal Debian host: group kvm, mode 0660.
if [[ -c /dev/kvm ]] && getent group kvm >/dev/null && [[ "$(stat -c '%G %a' /dev/kvm)" != "kvm 660" ]]; then
  log "/dev/kvm is $(stat -c '%U:%G %a' /dev/kvm); setting kvm group and 0660 as udev would"
  chgrp kvm /dev/kvm
  chmod 0660 /dev/kvm
fi

# KVM is usable when QEMU, as the user libvirt runs it as, can boot an ordinary x86 kernel under it
# the way a BIOS guest starts (real mode, then protected and long mode): the kernel must reach its
# "VFS: Unable to mount root fs" panic (no root is given), after which QEMU exits (-no-reboot).
# Creating a VM alone proves too little: some hosts' /dev/kvm (e.g. a paravirtual "PVM" KVM,
# module kvm_pvm) accepts KVM_CREATE_VM and KVM_CREATE_VCPU but cannot run a BIOS guest.
# libvirt must also offer the kvm domain type.
kvm_probe() {
  [[ -c /dev/kvm ]] || { log "KVM: /dev/kvm is missing"; return 1; }
  [[ -n "${PROBE_KERNEL}" ]] || { log "KVM: no kernel to boot as a probe (give one: $0 KERNEL)"; return 1; }
  [[ -r "${PROBE_KERNEL}" ]] || die "kernel ${PROBE_KERNEL} is not readable"
  local out
  out="$(timeout "${KVM_BOOT_SECONDS}" runuser -u "${QEMU_USER}" -- qemu-system-x86_64 -accel kvm -machine pc \
    -cpu host -smp 1 -m 128 -nodefaults -display none -serial stdio -no-reboot \
    -kernel "${PROBE_KERNEL}" -append 'console=ttyS0 panic=-1' </dev/null 2>&1)" || true
  if ! grep -q 'Kernel panic - not syncing: VFS' <<<"${out}"; then
    log "KVM: a kernel did not boot under KVM within ${KVM_BOOT_SECONDS}s (last output: $(tail -c 300 <<<"${out}" | tr -s '\r\n' ' '))"
    return 1
  fi
  if ! out="$(virsh -c "${URI}" domcapabilities --virttype kvm 2>&1 >/dev/null)"; then
    log "KVM: QEMU boots under KVM, but libvirt does not offer domain type kvm: ${out}"
    return 1
  fi
}
if kvm_probe; then
  log "KVM works: VMs use domain type kvm"
  echo kvm
else
  log "KVM does not work here: VMs use domain type qemu (emulation)"
  echo qemu
fi
