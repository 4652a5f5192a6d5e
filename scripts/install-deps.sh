#!/usr/bin/env bash
# Installs the Debian packages Calico-TS's lab and system tests need. Idempotent; installs only what is missing.
set -euo pipefail
packages=(nftables iproute2 iptables ipset bird2 etcd-server etcd-client containernetworking-plugins iperf3
  iputils-ping podman runc busybox-static gobgpd socat tcpdump procps psmisc)
# kubectl for 'calico-lab kubectl' and the API-server tests: Debian's kubernetes-client unless one is already installed.
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -q
  # Keep package post-install scripts from starting daemons (etcd, bird) on the host.
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  [ "$had_policy" = 1 ] || { printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  [ "$had_policy" = 1 ] || rm -f "$policy"
fi
