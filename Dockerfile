# The dgm-sandbox image: what agents and harnesses run in (docs/sandbox.md).
#
# `dgm sandbox build` builds it offline: BASE_IMAGE is the debootstrapped
# Debian base from image/build-base.sh, the build runs with no network, and
# Python packages come from wheels the host's pip put in image/wheels.
# On machines with a registry, `docker build -t dgm-sandbox .` works as is
# (python:3.11-slim; only there is apt used, to add git).
ARG BASE_IMAGE=python:3.11-slim

# Stage 1 installs the wheels, so the 260 MB of wheels never land in a layer
# of the final image. The bundled data sets are deleted: they must be invisible
# to agents (meta-test tasks come from them).
FROM ${BASE_IMAGE} AS venv
COPY image/requirements.txt /build/requirements.txt
COPY image/wheels/ /build/wheels/
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --no-cache-dir --disable-pip-version-check \
        --find-links /build/wheels -r /build/requirements.txt \
 && rm -rf /opt/venv/lib/python3*/site-packages/sklearn/datasets/data \
 && /opt/venv/bin/python -c "import torch, numpy, sklearn, scipy, pytest, openai"

FROM ${BASE_IMAGE}
RUN command -v git >/dev/null \
 || (apt-get update && apt-get install -y --no-install-recommends git \
     && rm -rf /var/lib/apt/lists/*)
# The agent user: uid 1000, no home of its own (HOME=/tmp, a tmpfs at run time).
# Mounts are owned by root or by it: git's ownership check would only get in the way.
RUN (getent group 1000 >/dev/null || groupadd -g 1000 agent) \
 && (getent passwd 1000 >/dev/null || useradd -u 1000 -g 1000 -M -d /tmp -s /bin/sh agent) \
 && rm -rf /usr/share/datasets \
 && printf '[safe]\n\tdirectory = *\n' > /etc/gitconfig \
 && mkdir -p /scratch /agent /harness /testbed \
 && chown 1000:1000 /scratch /testbed
COPY --from=venv /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin \
    HOME=/tmp \
    LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1
USER 1000:1000
WORKDIR /scratch
CMD ["/bin/sh"]
