#!/usr/bin/env bash
# Makes sure a Docker engine answers and the sandbox images are built, before
# `make test` runs pytest. Fast (about a second) when everything is already up.
#
# - No engine answers and we are root: start dockerd in the background
#   (pidfile /var/run/dgm-dockerd.pid, log /var/log/dgm/dockerd.log) and poll
#   `docker info` for up to 60 s. A dockerd someone else started is left alone.
# - Then build or refresh the images (idempotent: content-hashed tags, the
#   image store's layers are reused).
# - CI=true: any failure exits non-zero (Docker tests must fail, not skip).
#   Otherwise the reason is printed and we exit 0, so Docker tests skip.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ci=false
case "${CI:-}" in true|TRUE|True|1|yes) ci=true ;; esac
py="$here/.venv/bin/python"
[ -x "$py" ] || py=python3

give_up() {
  if $ci; then echo "engine-up: FAILED: $*" >&2; exit 1; fi
  echo "engine-up: $* (Docker tests will skip)" >&2
  exit 0
}

docker_cli="$(command -v docker || true)"
[ -n "$docker_cli" ] || give_up "no docker CLI (apt-get install docker.io)"

if ! timeout 20 "$docker_cli" info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || give_up "no Docker engine answers and we are not root to start one"
  dockerd_bin="$(command -v dockerd || echo /usr/sbin/dockerd)"
  [ -x "$dockerd_bin" ] || give_up "no Docker engine answers and dockerd is not installed"
  pidfile=/var/run/dgm-dockerd.pid
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "engine-up: dockerd (pid $(cat "$pidfile")) is starting; waiting" >&2
  else
    mkdir -p /var/log/dgm
    echo "engine-up: starting dockerd (log /var/log/dgm/dockerd.log)" >&2
    nohup "$dockerd_bin" --pidfile "$pidfile" >>/var/log/dgm/dockerd.log 2>&1 </dev/null &
    disown || true
  fi
  up=false
  for _ in $(seq 1 120); do
    if timeout 5 "$docker_cli" info >/dev/null 2>&1; then up=true; break; fi
    sleep 0.5
  done
  $up || { tail -n 15 /var/log/dgm/dockerd.log >&2 2>/dev/null; give_up "dockerd did not answer within 60 s"; }
  echo "engine-up: dockerd answers" >&2
fi

# Build or refresh the images; prints the tag. Progress goes to stderr.
if ! tag="$(cd "$here" && "$py" -c 'import sys
from dgm.sandbox.image import ensure_image
print(ensure_image(echo=lambda line: print(line, file=sys.stderr)))')"; then
  give_up "building the sandbox image failed"
fi
echo "engine-up: sandbox image $tag" >&2
# Image variants named in DGM_SANDBOX_VARIANTS (e.g. "polyglot"; CI sets it): built FROM that tag.
for variant in ${DGM_SANDBOX_VARIANTS:-}; do
  if ! vtag="$(cd "$here" && "$py" -c 'import sys
from dgm.sandbox.variants import ensure_variant
print(ensure_variant(sys.argv[1], echo=lambda line: print(line, file=sys.stderr)))' "$variant")"; then
    give_up "building the sandbox image variant $variant failed"
  fi
  echo "engine-up: sandbox image variant $vtag" >&2
done
exit 0
