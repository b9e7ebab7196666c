#!/usr/bin/env bash
# Builds the offline base image for machines without a container registry:
# debootstrap a minimal Debian bookworm (python3, venv/pip, git, CA certificates)
# from the Debian mirror, then `docker import` it. Idempotent: the tag is a hash
# of this script, so an existing image is reused and the debootstrap (about a
# minute) only happens when the recipe changes. The rootfs tarball is cached in
# image/build/ so a pruned image store is refilled in seconds.
#
# Usage: image/build-base.sh [--print-tag]
#   prints the tag (dgm-sandbox-base:<hash>) on its last line.
# Env:   DGM_DEBIAN_MIRROR (default http://deb.debian.org/debian), DOCKER (docker CLI)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite=bookworm
mirror="${DGM_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
packages=python3,python3-venv,git,ca-certificates
docker_cli="${DOCKER:-docker}"

hash="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)"
tag="dgm-sandbox-base:${hash}"
if [ "${1:-}" = "--print-tag" ]; then echo "$tag"; exit 0; fi

if "$docker_cli" image inspect "$tag" >/dev/null 2>&1; then
  echo "build-base: $tag already present" >&2
  echo "$tag"
  exit 0
fi

cache="$here/build/base-${hash}.tar"
if [ ! -s "$cache" ]; then
  [ "$(id -u)" = 0 ] || { echo "build-base: debootstrap needs root" >&2; exit 1; }
  command -v debootstrap >/dev/null || { echo "build-base: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
  mkdir -p "$here/build"
  rootfs="$(mktemp -d "$here/build/rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs" "$cache.part"' EXIT
  echo "build-base: debootstrap $suite ($packages) from $mirror" >&2
  debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$here/build/debootstrap.log" 2>&1 \
    || { tail -n 20 "$here/build/debootstrap.log" >&2; exit 1; }
  # Shrink: package lists and caches are useless in an image that never runs apt.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
         "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
  # Deterministic-ish tarball: sorted names, numeric owners.
  tar -C "$rootfs" --sort=name --numeric-owner -cf "$cache.part" .
  mv "$cache.part" "$cache"
  rm -rf "$rootfs"
  trap - EXIT
fi

echo "build-base: docker import -> $tag" >&2
"$docker_cli" import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' "$cache" "$tag" >/dev/null
echo "$tag"
