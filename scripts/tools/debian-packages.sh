#!/usr/bin/env bash
# Installs the Debian packages the test tiers run, when any is missing.
# apt-get update runs only when something has to be installed, so a second run is fast.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

packages=(
  xorriso            # synth writes every node's NoCloud seed image (ISO 9660, label cidata) with it
  genisoimage        # isoinfo: the tiers read the seed images back
  haproxy            # haproxy -c on the rendered load-balancer config, live failover test
  cloud-init         # cloud-init schema on every node's user-data
  shellcheck         # every shell script that runs on a VM
  containerd         # containerd config dump of the rendered config.toml (bootstrap)
  keepalived         # keepalived -t on the two-load-balancer topology
  etcd-server etcd-client  # a real etcd member (3.4) from the rendered external-etcd config, live tier
  nftables           # nft -c on the etcd nodes' firewall rules
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils  # the deploy tier
  dnsmasq-base       # libvirt's NAT networks: DHCP and DNS (deploy tier)
  xsltproc           # the libvirt provider v0.8 shells out to it for a domain's xml.xslt
  bind9-dnsutils     # dig, asking a test network's dnsmasq (deploy tier)
  busybox-static cpio syslinux syslinux-common mtools dosfstools  # scripts/make-test-image.sh
  iproute2 curl ca-certificates openssl
  mmdebstrap         # the node image's root filesystem (npm run image)
  gcc libc6-dev      # pause, from the C source k8s.io/kubernetes ships (npm run image)
  docker.io          # the end-to-end tier's node containers (dockerd in a namespace of the tier's own)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  log "Debian packages: all ${#packages[@]} present"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || die "installing ${missing[*]} needs root (apt-get)"
log "Debian packages: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
