"""Choosing a backend: docker where an engine answers and the image exists or
can be built, else bwrap, with one line saying which and why. ``unsafe`` (a
plain subprocess) is only ever used when asked for explicitly."""

from __future__ import annotations

import os
import shutil
from typing import Callable

from dgm.errors import ConfigError, DgmError
from dgm.sandbox.base import Limits, Sandbox
from dgm.sandbox.docker_engine import docker_available

KINDS = ("auto", "docker", "bwrap", "unsafe")


def bwrap_available() -> tuple[bool, str]:
    """Whether bubblewrap can actually start a sandbox here (a real probe run)."""
    if not shutil.which("bwrap"):
        return False, "bubblewrap is not installed"
    from dgm.sandbox.bwrap import BwrapSandbox

    try:
        with BwrapSandbox() as sb:
            r = sb.run("", ["true"], limits=Limits(seconds=20))
    except DgmError as exc:
        return False, str(exc)
    if not r.ok:
        first = (r.stderr.strip().splitlines() or [r.reason])[0]
        return False, f"bubblewrap cannot start a sandbox here ({first[:200]})"
    return True, "bubblewrap works"


def choose_sandbox(kind: str = "auto", *, image: str | None = None,
                   echo: Callable[[str], None] = print, pool_size: int = 0) -> Sandbox:
    """The sandbox to run agents in (see module docstring); raises DgmError if none fits.

    With ``kind="auto"`` the environment variable ``DGM_SANDBOX`` (docker or
    bwrap) may force a backend; ``unsafe`` must be asked for explicitly.
    """
    kind = (kind or "auto").strip().lower()
    if kind not in KINDS:
        raise ConfigError(f"unknown sandbox {kind!r}: choose one of {', '.join(KINDS)}")
    if kind == "auto" and os.environ.get("DGM_SANDBOX"):
        kind = os.environ["DGM_SANDBOX"].strip().lower()
        if kind not in ("docker", "bwrap"):
            raise ConfigError(f"DGM_SANDBOX must be docker or bwrap, not {kind!r} (unsafe needs --unsafe)")
    if kind == "unsafe":
        from dgm.sandbox.local import LocalSandbox

        echo("sandbox: unsafe (asked for with --unsafe): agent code runs as a plain subprocess, "
             "NOT isolated")
        return LocalSandbox()
    docker_why = ""
    if kind in ("auto", "docker"):
        ok, docker_why = docker_available()
        if ok:
            try:
                from dgm.sandbox.docker import GENERIC_NAMES, DockerSandbox
                from dgm.sandbox.image import ensure_image

                tag = ensure_image(echo) if image in (None, "", *GENERIC_NAMES) else image
                sandbox = DockerSandbox(tag, pool_size=pool_size)
                sandbox._image(tag)  # fails now, not at the first run, if the image is missing
                echo(f"sandbox: docker ({docker_why}; image {tag})")
                return sandbox
            except DgmError as exc:
                docker_why = f"{docker_why}, but the image is unavailable: {exc}"
        if kind == "docker":
            raise DgmError(f"--sandbox docker is not possible: {docker_why}")
    ok, bwrap_why = bwrap_available()
    if ok:
        from dgm.sandbox.bwrap import BwrapSandbox

        prefix = f"docker unavailable: {docker_why}; " if kind == "auto" else ""
        echo(f"sandbox: bwrap ({prefix}{bwrap_why})")
        return BwrapSandbox()
    if kind == "bwrap":
        raise DgmError(f"--sandbox bwrap is not possible: {bwrap_why}")
    raise DgmError(f"no sandbox is available (docker: {docker_why}; bwrap: {bwrap_why}); install "
                   "docker.io or bubblewrap, or pass --unsafe to run agent code unsandboxed")
