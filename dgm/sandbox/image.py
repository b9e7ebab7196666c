"""Building the dgm-sandbox image offline, tagged by the hash of what goes in.

``ensure_image()`` is idempotent: it hashes the Dockerfile, the pinned
requirements and the base image's id, and only builds when no image carries
that tag. Without a registry the base comes from ``image/build-base.sh``
(debootstrap + docker import); ``DGM_SANDBOX_BASE=python:3.11-slim`` uses a
registry base instead. Wheels come from the host's pip (``pip download``), and
the build itself runs with no network when the base is ours.
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import re
import subprocess
import sys
import tarfile
from typing import Callable

from dgm.errors import DgmError
from dgm.resources import data_root
from dgm.sandbox.docker_engine import docker_client

REPO = data_root()  # the checkout, or the wheel's dgm/_shipped
DOCKERFILE = REPO / "Dockerfile"
IMAGE_DIR = REPO / "image"
REQUIREMENTS = IMAGE_DIR / "requirements.txt"
WHEELS = IMAGE_DIR / "wheels"
BUILD_BASE = IMAGE_DIR / "build-base.sh"
IMAGE_NAME = "dgm-sandbox"
PYTHON_IN_IMAGE = "3.11"  # bookworm's python3 and python:3.11-slim
GLIBC_IN_IMAGE = 36  # bookworm: glibc 2.36

Echo = Callable[[str], None]


def _pins() -> list[tuple[str, str]]:
    pins = []
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            if not version:
                raise DgmError(f"{REQUIREMENTS}: every requirement must be pinned with ==, not {line!r}")
            pins.append((_norm(name), version.strip()))
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def missing_wheels() -> list[str]:
    """Pinned requirements with no matching wheel in image/wheels."""
    have = set()
    if WHEELS.is_dir():
        for f in WHEELS.glob("*.whl"):
            name, version = f.name.split("-")[:2]
            have.add((_norm(name), version))
    return [f"{n}=={v}" for n, v in _pins() if (n, v) not in have]


def download_wheels(echo: Echo = print) -> None:
    """Fill image/wheels with the host's pip, for the image's Python and platform."""
    missing = missing_wheels()
    if not missing:
        return
    echo(f"sandbox: downloading {len(missing)} wheels with the host's pip into {WHEELS}")
    WHEELS.mkdir(parents=True, exist_ok=True)
    machine = platform.machine()
    # Every manylinux tag bookworm's glibc (2.36) accepts: pip does not infer them.
    platforms = [f"manylinux_2_{v}_{machine}" for v in range(GLIBC_IN_IMAGE, 16, -1)]
    platforms += [f"manylinux2014_{machine}", "linux_" + machine]
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
           "--only-binary", ":all:", "--python-version", PYTHON_IN_IMAGE, "--implementation", "cp",
           *(a for p in platforms for a in ("--platform", p)),
           "-d", str(WHEELS), "-r", str(REQUIREMENTS)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or missing_wheels():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise DgmError(f"pip could not download the sandbox wheels ({', '.join(missing_wheels())}): {tail}")


def base_image(echo: Echo = print) -> tuple[str, bool]:
    """The base image tag, and whether it is our offline one (then the build needs no network)."""
    client = docker_client()
    given = os.environ.get("DGM_SANDBOX_BASE")
    if given:
        try:
            client.images.get(given)
        except Exception:
            echo(f"sandbox: pulling base image {given}")
            try:
                client.images.pull(given)
            except Exception as exc:
                raise DgmError(f"base image {given} is neither local nor pullable: {exc}") from exc
        return given, False
    proc = subprocess.run(["bash", str(BUILD_BASE)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise DgmError(f"building the offline base image failed: {proc.stderr.strip()[-800:]}")
    for line in proc.stderr.strip().splitlines():
        if "already present" not in line:
            echo(line)
    return proc.stdout.strip().splitlines()[-1], True


def image_tag(base_id: str) -> str:
    """dgm-sandbox:<hash of the Dockerfile, the pinned requirements and the base image id>."""
    h = hashlib.sha256()
    for part in (DOCKERFILE.read_bytes(), REQUIREMENTS.read_bytes(), base_id.encode()):
        h.update(hashlib.sha256(part).digest())
    return f"{IMAGE_NAME}:{h.hexdigest()[:12]}"


def _context() -> io.BufferedRandom:
    """The build context: only the files the Dockerfile copies (as .dockerignore says)."""
    import tempfile

    fileobj = tempfile.TemporaryFile()
    pinned = {f"{n}=={v}" for n, v in _pins()}
    with tarfile.open(fileobj=fileobj, mode="w") as tar:
        tar.add(DOCKERFILE, "Dockerfile")
        tar.add(REQUIREMENTS, "image/requirements.txt")
        for f in sorted(WHEELS.glob("*.whl")):
            name, version = f.name.split("-")[:2]
            if f"{_norm(name)}=={version}" in pinned:  # stale wheels stay out
                tar.add(f, f"image/wheels/{f.name}")
    fileobj.seek(0)
    return fileobj


def ensure_image(echo: Echo = print, *, force: bool = False) -> str:
    """Build dgm-sandbox if its content-hashed tag is missing; return the tag."""
    override = os.environ.get("DGM_SANDBOX_IMAGE")
    try:
        client = docker_client()
    except Exception as exc:
        raise DgmError(f"cannot build the sandbox image: no Docker engine answers ({exc})") from exc
    if override:
        client.images.get(override)
        return override
    base, offline = base_image(echo)
    tag = image_tag(client.images.get(base).id)
    if not force:
        try:
            client.images.get(tag)
            return tag
        except Exception:
            pass
    download_wheels(echo)
    echo(f"sandbox: building {tag} from {base} (offline: {offline})")
    log: list[str] = []
    with _context() as ctx:
        stream = client.api.build(fileobj=ctx, custom_context=True, tag=tag, rm=True, forcerm=True,
                                  buildargs={"BASE_IMAGE": base}, decode=True,
                                  network_mode="none" if offline else None)
        error = None
        for chunk in stream:
            if "stream" in chunk:
                log.append(chunk["stream"])
            if "error" in chunk:
                error = chunk["error"]
    if error:
        tail = "".join(log)[-1500:]
        raise DgmError(f"building {tag} failed: {error.strip()}\n{tail}")
    client.images.get(tag).tag(IMAGE_NAME, "latest")
    echo(f"sandbox: built {tag}")
    return tag
