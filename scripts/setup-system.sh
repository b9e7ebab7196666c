#!/usr/bin/env bash
# Installs the Debian packages dgm uses, when run as root with apt; otherwise
# prints what is missing. Fast when everything is already there.
set -euo pipefail
pkgs=(docker.io bubblewrap debootstrap dataset-fashion-mnist chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: please install these system packages: ${missing[*]}" >&2
  echo "setup: (dgm still works without them: bwrap is the fallback sandbox; some tests will skip)" >&2
fi
