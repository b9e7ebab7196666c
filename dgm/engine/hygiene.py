"""Host resources of a run, owned by its process, and the sweep of what dead runs left.

A run puts every temporary directory it makes (proposal work dirs, evaluation
dirs, scratch slots, bwrap's /etc, git index files, ...) under one directory of
its own, ``$TMPDIR/dgm-run-PID-XXXXXXXX`` (``claim``: ``tempfile`` is pointed at
it; short, because AF_UNIX socket paths under it, Ray's among them, are limited to
107 bytes, and never nested in another run's directory for the same reason), its
scratch mounts carry its pid (``dgm-slot-PID-*``) and so do its cgroups
(``dgm-PID-*``). A SIGKILL leaves them; the next run's start (and ``dgm sandbox
clean``) removes those whose pid is gone - and only those: a live run's, or
anything not named so, is never touched.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

RUN_DIR = re.compile(r"^dgm-run-(\d{1,10})-")
CGROUP = re.compile(r"^dgm-(\d{1,10})-[0-9a-f]{8}$")


def _dead(pid: str) -> bool:
    return pid.isdigit() and int(pid) != os.getpid() and not os.path.exists(f"/proc/{pid}")


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path).rstrip("/") + "/"
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    targets = [line.split()[1].replace("\\040", " ") for line in lines]
    return sorted((t for t in targets if t.startswith(prefix)), key=len, reverse=True)


def _umount(target: str) -> bool:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return libc.umount2(target.encode(), 2) == 0  # MNT_DETACH


@dataclass
class Swept:
    dirs: int = 0
    mounts: int = 0
    cgroups: int = 0

    def __bool__(self) -> bool:
        return bool(self.dirs or self.mounts or self.cgroups)

    def line(self) -> str:
        return (f"removed what dead runs left: {self.dirs} temp dirs, {self.mounts} mounts, "
                f"{self.cgroups} cgroups")


def _cgroup_parents() -> list[Path]:
    root = Path("/sys/fs/cgroup")
    try:
        if (root / "cgroup.controllers").exists():
            rel = Path("/proc/self/cgroup").read_text().strip().split("::", 1)[1].lstrip("/")
            return [root / rel]
        from dgm.sandbox.cgroups import _v1_paths

        return sorted(set(_v1_paths().values()))
    except (OSError, IndexError):
        return []


def sweep(tmp_root: Path | None = None) -> Swept:
    """Remove temp dirs, mounts and cgroups of runs whose process is gone."""
    out = Swept()
    base = Path(tmp_root or _base_tmp())
    try:
        entries = list(base.iterdir())
    except OSError:
        entries = []
    for d in entries:
        m = RUN_DIR.match(d.name)
        if m and _dead(m[1]) and d.is_dir() and not d.is_symlink():
            for target in _mounts_under(d):  # a killed run's scratch slots are mounted in it
                out.mounts += _umount(target)
            shutil.rmtree(d, ignore_errors=True)
            out.dirs += 1
    from dgm.sandbox.scratch import clean_stale_slots

    out.mounts += clean_stale_slots()  # slots of older layouts, outside any run dir
    for parent in _cgroup_parents():
        try:
            kids = list(parent.iterdir())
        except OSError:
            continue
        for cg in kids:
            m = CGROUP.match(cg.name)
            if not (m and _dead(m[1]) and cg.is_dir()):
                continue
            try:
                for pid in (cg / "cgroup.procs").read_text().split():
                    os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
            try:
                cg.rmdir()
                out.cgroups += 1
            except OSError:
                pass  # still has a dying process: the next sweep gets it
    return out


_BASE: list[str] = []
_ENV: list[str | None] = []  # $TMPDIR as it was before ``claim``
_AT_EXIT: list[bool] = []


def _base_tmp() -> str:
    """The temp root before ``claim`` redirected ``tempfile`` (``$TMPDIR`` or /tmp); when
    that is itself a run's directory (a run started by a run inherits its $TMPDIR), the
    directory that one lives in."""
    if _BASE:
        return _BASE[0]
    base = Path(tempfile.gettempdir())
    return str(base.parent) if RUN_DIR.match(base.name) else str(base)


def claimed() -> bool:
    """Whether this process already has its run directory."""
    return bool(_BASE)


def claim() -> Path:
    """Make this process's temp files live in its own run directory, removed by
    ``release`` (at the latest at exit)."""
    if _BASE:
        return Path(tempfile.gettempdir())
    base = _base_tmp()
    try:
        own = Path(tempfile.mkdtemp(prefix=f"dgm-run-{os.getpid()}-", dir=base))
    except OSError:  # a full temp disk: the run's host-fault retries deal with it
        return Path(base)
    _BASE.append(base)
    _ENV.append(os.environ.get("TMPDIR"))
    tempfile.tempdir = str(own)
    os.environ["TMPDIR"] = str(own)  # git and other children we start put theirs there too
    if not _AT_EXIT:
        _AT_EXIT.append(True)
        atexit.register(release)
    return own


def release() -> None:
    """Remove this run's directory (at exit; its mounts are ours and finished by now)."""
    if not _BASE:
        return
    own = Path(tempfile.gettempdir())
    base = _BASE.pop()
    tempfile.tempdir = None
    env = _ENV.pop()
    if env is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = env
    if RUN_DIR.match(own.name) and own.parent == Path(base):
        for target in _mounts_under(own):
            _umount(target)
        shutil.rmtree(own, ignore_errors=True)
