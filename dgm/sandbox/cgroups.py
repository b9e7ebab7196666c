"""Per-run cgroups for the bwrap backend: hard memory, process and CPU limits.

rlimits alone cannot stop a fork bomb when bwrap runs as root (the sandbox
user maps to host uid 0, which RLIMIT_NPROC exempts) nor count a process tree's
memory, so when we may (root, cgroup v1 or v2 with the controllers) each run
gets its own cgroups, created *below the engine's own* so the engine's limits
still apply. They also give an exact OOM-kill count and a final sweep that
kills every process the run left, whatever session or process group it is in.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

from dgm.sandbox.base import Limits

_ROOT = Path("/sys/fs/cgroup")
_CONTROLLERS = ("memory", "pids", "cpu")


def _v1_paths() -> dict[str, Path]:
    """controller -> this process's cgroup directory, for v1 hierarchies we need."""
    mounts: dict[str, Path] = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, rfields = left.split(), right.split()
        if len(rfields) >= 3 and rfields[0] == "cgroup":
            for opt in rfields[2].split(","):
                if opt in _CONTROLLERS:
                    mounts[opt] = Path(fields[4])
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, ctrls, rel = line.split(":", 2)
        for c in ctrls.split(","):
            if c in mounts:
                paths[c] = mounts[c] / rel.lstrip("/")
    return paths


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


class Cgroups:
    """The cgroup directories of one run (v1: one per controller; v2: one)."""

    def __init__(self, dirs: dict[str, Path], v2: bool) -> None:
        self.dirs = dirs
        self.v2 = v2
        self._procs_files = sorted({str(d / "cgroup.procs") for d in dirs.values()})

    @classmethod
    def create(cls, limits: Limits) -> "Cgroups | None":
        """New cgroups with ``limits``, or None where we may not create them."""
        if os.geteuid() != 0:
            return None
        name = f"dgm-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        mem = limits.memory_mb * 1024 * 1024
        quota = int(limits.cpus * 100_000) if limits.cpus < (os.cpu_count() or 1) else -1
        made: list[Path] = []
        try:
            if (_ROOT / "cgroup.controllers").exists():
                rel = Path("/proc/self/cgroup").read_text().strip().split("::", 1)[1].lstrip("/")
                parent = _ROOT / rel
                _write(parent / "cgroup.subtree_control", "+memory +pids +cpu")
                d = parent / name
                d.mkdir()
                made.append(d)
                _write(d / "memory.max", str(mem))
                if (d / "memory.swap.max").exists():
                    _write(d / "memory.swap.max", "0")
                _write(d / "pids.max", str(limits.pids))
                _write(d / "cpu.max", f"{quota if quota > 0 else 'max'} 100000")
                return cls({"memory": d, "pids": d, "cpu": d}, v2=True)
            dirs = {}
            for ctrl, parent in _v1_paths().items():
                d = parent / name
                d.mkdir()
                made.append(d)
                dirs[ctrl] = d
            if set(dirs) != set(_CONTROLLERS):
                raise OSError(f"cgroup v1 controllers missing: {set(_CONTROLLERS) - set(dirs)}")
            _write(dirs["memory"] / "memory.limit_in_bytes", str(mem))
            if (dirs["memory"] / "memory.memsw.limit_in_bytes").exists():
                _write(dirs["memory"] / "memory.memsw.limit_in_bytes", str(mem))
            _write(dirs["pids"] / "pids.max", str(limits.pids))
            _write(dirs["cpu"] / "cpu.cfs_period_us", "100000")
            _write(dirs["cpu"] / "cpu.cfs_quota_us", str(quota))
            return cls(dirs, v2=False)
        except OSError:
            for d in made:
                try:
                    d.rmdir()
                except OSError:
                    pass
            return None

    def join(self) -> None:
        """Move the calling process in (runs in the child between fork and exec)."""
        pid = str(os.getpid()).encode()
        for f in self._procs_files:
            fd = os.open(f, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    def procs(self) -> set[int]:
        pids: set[int] = set()
        for f in self._procs_files:
            try:
                pids.update(int(x) for x in Path(f).read_text().split())
            except OSError:
                pass
        return pids

    def oom_kills(self) -> int:
        """How many processes the kernel killed for exceeding the memory limit."""
        d = self.dirs["memory"]
        try:
            text = (d / ("memory.events" if self.v2 else "memory.oom_control")).read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def kill_all(self, timeout: float = 10.0) -> bool:
        """SIGKILL every process in the run's cgroups until none is left."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.procs()
            if not pids:
                return True
            if time.monotonic() > deadline:
                return False
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        for d in set(self.dirs.values()):
            for _ in range(50):  # rmdir fails while the last zombie is being reaped
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
