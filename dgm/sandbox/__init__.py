"""Sandboxes for untrusted agent code: docker, bwrap and the explicit unsafe backend.

Use :func:`choose_sandbox` to get one (it prints which and why), and
:func:`ensure_image` to build the Docker image. See docs/sandbox.md.
"""

from dgm.sandbox.base import Limits, Mount, RunResult, Sandbox, SandboxInfo, cap_output
from dgm.sandbox.bwrap import BwrapSandbox
from dgm.sandbox.docker import DockerSandbox
from dgm.sandbox.docker_engine import docker_available, in_ci
from dgm.sandbox.image import ensure_image
from dgm.sandbox.local import LocalSandbox
from dgm.sandbox.policy import protect
from dgm.sandbox.select import bwrap_available, choose_sandbox

__all__ = [
    "BwrapSandbox", "DockerSandbox", "Limits", "LocalSandbox", "Mount", "RunResult", "Sandbox",
    "SandboxInfo", "bwrap_available", "cap_output", "choose_sandbox", "docker_available",
    "ensure_image", "in_ci", "protect",
]
