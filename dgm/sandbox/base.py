"""The sandbox contract every backend implements (see docs/architecture.md).

Inside every backend the same paths exist: each Mount's target, a writable
``/tmp`` and the working directory. ``python3`` on PATH has the sandbox's
Python packages (torch, numpy, scikit-learn, pytest); ``git`` is available.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

OUTPUT_CAP = 1 << 20  # bytes kept per stream; the tail is kept


@dataclass(frozen=True)
class Mount:
    """A host directory made visible at ``target`` inside the sandbox."""

    source: Path
    target: str
    writable: bool = False


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed command."""

    seconds: float = 600.0
    memory_mb: int = 4096
    cpus: float = 2.0
    pids: int = 256
    file_size_mb: int = 1024
    scratch_mb: int = 2048
    output_bytes: int = OUTPUT_CAP
    gpus: int = 0  # number of GPUs passed through (docker device requests)


@dataclass
class RunResult:
    """What one sandboxed command did."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    oom_killed: bool = False
    seconds: float = 0.0
    image_digest: str | None = None
    backend: str = ""
    reason: str = ""  # human-readable cause when it did not exit 0
    over_quota: bool = False  # what it left in a writable mount passed the quota (not all copied back)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.oom_killed and not self.over_quota


def cap_output(data: bytes, limit: int = OUTPUT_CAP) -> str:
    """Decode and keep at most ``limit`` bytes of the tail, marking the cut."""
    if len(data) <= limit:
        return data.decode("utf-8", "replace")
    cut = len(data) - limit
    return f"[... {cut} bytes cut by dgm ...]\n" + data[cut:].decode("utf-8", "replace")


class Sandbox(abc.ABC):
    """Runs untrusted commands with limits, an env allow-list and no network."""

    name: str = "abstract"

    @abc.abstractmethod
    def run(
        self,
        image: str,
        command: Sequence[str],
        mounts: Sequence[Mount] = (),
        env: Mapping[str, str] | None = None,
        limits: Limits = Limits(),
        network: str | None = None,
        workdir: str = "/scratch",
    ) -> RunResult:
        """Run ``command`` and return its result; never raises for agent misbehaviour.

        ``env`` is the complete environment (an allow-list): nothing from the
        host leaks in except what the backend itself needs (PATH, HOME=/tmp).
        ``network`` None means no network at all.
        """

    def close(self) -> None:
        """Release pooled resources (containers, ...)."""

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class SandboxInfo:
    """A description line for the user: which backend was chosen and why."""

    backend: str
    why: str
    extra: dict = field(default_factory=dict)
