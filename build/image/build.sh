#!/bin/bash
# Builds the Calico-TS image with buildah from a Debian base made by debootstrap (no registry image needed):
#   1. debootstrap a minimal Debian (nodejs 20, iproute2, nftables, bird2, ...) into a temporary root;
#   2. import it as localhost/calico-ts/debian-base:<suite>;
#   3. buildah bud build/image/Containerfile from the repository root (after `npm run build`).
# Run as root: make image. Settings: IMAGE, DEBIAN_SUITE (trixie: Debian's first release with Node.js 20),
# DEBIAN_MIRROR.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
IMAGE=${IMAGE:-localhost/calico-ts/calico:v0.1.0}
SUITE=${DEBIAN_SUITE:-trixie}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE=localhost/calico-ts/debian-base:$SUITE
PACKAGES=nodejs,iproute2,nftables,iptables,ipset,bird2,conntrack,ca-certificates,procps,kmod

for tool in debootstrap buildah; do
  command -v "$tool" >/dev/null || { apt-get update -q && apt-get install -y -q "$tool"; }
done
[ -x "$ROOT/dist/bin/calico-node" ] || { echo "build.sh: run 'npm run build' first (dist/bin/calico-node missing)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/tk-image.XXXXXX)
CTR=""
cleanup() {
  if [ -n "$CTR" ]; then buildah umount "$CTR" >/dev/null 2>&1 || true; buildah rm "$CTR" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! buildah inspect --type image "$BASE" >/dev/null 2>&1; then
  echo "== debootstrap $SUITE ($PACKAGES)"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$WORK/rootfs" "$MIRROR"
  chroot "$WORK/rootfs" apt-get clean
  rm -rf "$WORK/rootfs/var/lib/apt/lists/"*
  CTR=$(buildah from scratch)
  MNT=$(buildah mount "$CTR")
  tar -C "$WORK/rootfs" -cf - . | tar -C "$MNT" -xf -
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$CTR"
  buildah commit "$CTR" "$BASE"
  buildah umount "$CTR" >/dev/null
  buildah rm "$CTR" >/dev/null
  CTR=""
fi

echo "== buildah bud -> $IMAGE"
buildah bud --layers -f "$ROOT/build/image/Containerfile" --build-arg BASE="$BASE" -t "$IMAGE" "$ROOT"
echo "built $IMAGE"
