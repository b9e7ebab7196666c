"""Optional variants of the dgm-sandbox image (``dgm sandbox build --with NAME``).

A variant is ``image/variants/<name>.Dockerfile``, built ``FROM`` the current
content-hashed dgm-sandbox tag and tagged ``dgm-sandbox-<name>:<hash>`` (hash
of the variant's Dockerfile and the base image id) plus ``:latest``. The
default image stays small; a suite that needs more (polyglot: compilers and
test runners) names its variant as its image. Unlike the default build, a
variant's build may reach the Debian mirror (``apt-get``): it runs with the
engine's default network. The containers made from it run offline like any
other sandbox.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from dgm.errors import ConfigError, DgmError
from dgm.sandbox.docker_engine import docker_client
from dgm.sandbox.image import IMAGE_NAME, IMAGE_DIR, Echo, ensure_image

VARIANTS_DIR = IMAGE_DIR / "variants"


def known_variants() -> list[str]:
    return sorted(p.name.removesuffix(".Dockerfile") for p in VARIANTS_DIR.glob("*.Dockerfile"))


def _dockerfile(name: str) -> Path:
    path = VARIANTS_DIR / f"{name}.Dockerfile"
    if not path.is_file():
        raise ConfigError(f"unknown image variant {name!r}; known: {', '.join(known_variants()) or 'none'}")
    return path


def variant_repo(name: str) -> str:
    return f"{IMAGE_NAME}-{name}"


def variant_tag(name: str, base_id: str) -> str:
    h = hashlib.sha256(_dockerfile(name).read_bytes())
    h.update(base_id.encode())
    return f"{variant_repo(name)}:{h.hexdigest()[:12]}"


def current_variant(name: str) -> str | None:
    """The content-hashed tag of ``name`` for today's base image, if it is built."""
    try:
        client = docker_client()
        tag = variant_tag(name, client.images.get(ensure_image(lambda line: None)).id)
        client.images.get(tag)
        return tag
    except Exception:
        return None


def ensure_variant(name: str, echo: Echo = print, *, force: bool = False) -> str:
    """Build the variant if its tag is missing (after the base image); return the tag."""
    dockerfile = _dockerfile(name)
    base = ensure_image(echo)
    client = docker_client()
    tag = variant_tag(name, client.images.get(base).id)
    if not force:
        try:
            client.images.get(tag)
            client.images.get(tag).tag(variant_repo(name), "latest")
            return tag
        except Exception:
            pass
    echo(f"sandbox: building variant {tag} from {base} (apt-get reaches the Debian mirror)")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(dockerfile, "Dockerfile")
    buf.seek(0)
    log: list[str] = []
    error = None
    for chunk in client.api.build(fileobj=buf, custom_context=True, tag=tag, rm=True, forcerm=True,
                                  buildargs={"BASE_IMAGE": base}, decode=True):
        if "stream" in chunk:
            log.append(chunk["stream"])
        if "error" in chunk:
            error = chunk["error"]
    if error:
        raise DgmError(f"building {tag} failed: {error.strip()}\n{''.join(log)[-1500:]}")
    client.images.get(tag).tag(variant_repo(name), "latest")
    echo(f"sandbox: built {tag}")
    return tag
