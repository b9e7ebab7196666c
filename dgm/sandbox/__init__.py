"""Sandboxes for untrusted agent code: docker, bwrap and the explicit unsafe backend.

Use :func:`choose_sandbox` to get one (it prints which and why), and
:func:`ensure_image` to build the Docker image. See docs/sandbox.md.
"""

from .base import Limits, Mount, RunResult, Sandbox, SandboxInfo, cap_output
from .bwrap import BwrapSandbox
from .docker import DockerSandbox
from .engine import docker_available, in_ci
from .image import ensure_image
from .local import LocalSandbox
from .policy import protect
from .select import bwrap_available, choose_sandbox

__all__ = [
    "BwrapSandbox", "DockerSandbox", "Limits", "LocalSandbox", "Mount", "RunResult", "Sandbox",
    "SandboxInfo", "bwrap_available", "cap_output", "choose_sandbox", "docker_available",
    "ensure_image", "in_ci", "protect",
]
