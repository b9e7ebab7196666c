"""Rules every backend applies before running anything: mounts, environment, paths.

- Mount targets are absolute, distinct, not nested, and never a system path.
- Writable mounts never touch a protected path: the engine (``dgm/``), archives
  registered with :func:`protect`, and ``DGM_PROTECTED_PATHS``.
- The environment is an allow-list: exactly the variables given, plus PATH,
  HOME=/tmp, TMPDIR=/tmp and LANG that the backend supplies.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Mapping, Sequence

from dgm.errors import ConfigError
from dgm.sandbox.base import Mount

ENGINE_DIR = Path(__file__).resolve().parents[1]
RESERVED = ("/proc", "/sys", "/dev", "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64",
            "/tmp", "/opt/venv")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_protected: set[Path] = set()
_lock = threading.Lock()


def protect(path: str | os.PathLike) -> None:
    """Never allow ``path`` (e.g. an archive directory) to be mounted writable."""
    with _lock:
        _protected.add(Path(path).resolve())


def protected_paths() -> list[Path]:
    extra = [Path(p).resolve() for p in os.environ.get("DGM_PROTECTED_PATHS", "").split(os.pathsep) if p]
    with _lock:
        return [ENGINE_DIR, *sorted(_protected), *extra]


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def check_mounts(mounts: Sequence[Mount], world_readable: bool = False) -> list[Mount]:
    """Validate mounts (see module doc); raise ConfigError with the reason.

    ``world_readable``: the sandbox user is not the source's owner (Docker, and
    bwrap under a root engine), so a read-only source must be readable by others.
    """
    seen: list[str] = []
    out = []
    for m in mounts:
        target = os.path.normpath(m.target)
        if not target.startswith("/") or target == "/":
            raise ConfigError(f"mount target must be an absolute path below /, not {m.target!r}")
        if any(target == r or target.startswith(r + "/") for r in RESERVED):
            raise ConfigError(f"mount target {target} is a system path reserved by the sandbox")
        for t in seen:
            if _overlaps(Path(t), Path(target)):
                raise ConfigError(f"mount targets {t} and {target} overlap")
        seen.append(target)
        source = Path(m.source).resolve()
        if not source.exists():
            raise ConfigError(f"mount source {m.source} does not exist")
        if world_readable and not m.writable:
            need = 0o005 if source.is_dir() else 0o004
            mode = source.stat().st_mode
            if mode & need != need:
                raise ConfigError(f"mount source {source} (mode {oct(mode & 0o777)}) is not readable by the "
                                  f"sandbox user, which is not its owner: chmod o+r{'x' if need == 5 else ''}")
        if m.writable:
            if not source.is_dir():
                raise ConfigError(f"a writable mount must be a directory: {m.source}")
            for p in protected_paths():
                if _overlaps(source, p):
                    raise ConfigError(f"refusing to mount {source} writable: it overlaps the protected {p}")
        out.append(Mount(source, target, m.writable))
    return out


def check_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The declared variables, validated; nothing else from the host passes."""
    out = {}
    for k, v in (env or {}).items():
        if not isinstance(k, str) or not _NAME.match(k):
            raise ConfigError(f"invalid environment variable name {k!r}")
        if not isinstance(v, str) or "\0" in v:
            raise ConfigError(f"environment variable {k} must be a string without NUL bytes")
        out[k] = v
    return out


def sandbox_env(env: Mapping[str, str] | None, path: str) -> dict[str, str]:
    """The complete environment of a sandboxed command."""
    full = {"PATH": path, "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8"}
    full.update(check_env(env))
    return full


def workdir_for(workdir: str, mounts: Sequence[Mount]) -> str:
    """``workdir`` if it lies in a mount or /tmp, else /tmp (the only other writable place)."""
    wd = os.path.normpath(workdir)
    roots = ["/tmp", *(m.target for m in mounts)]
    return wd if any(wd == r or wd.startswith(r.rstrip("/") + "/") for r in roots) else "/tmp"


def check_command(command: Sequence[str]) -> list[str]:
    argv = list(command)
    if not argv or not all(isinstance(a, str) for a in argv):
        raise ConfigError("the command must be a non-empty list of strings")
    return argv


def describe_exit(code: int | None, timed_out: bool, oom: bool, seconds: float) -> str:
    """The human-readable reason stored in RunResult.reason."""
    if timed_out:
        return f"timed out after {seconds:g} s"
    if oom:
        return "killed: out of memory"
    if code is None:
        return "did not start"
    if code == 0:
        return ""
    if code > 128 and code - 128 < 65:
        import signal

        try:
            name = signal.Signals(code - 128).name
        except ValueError:
            name = f"signal {code - 128}"
        return f"exit code {code} (killed by {name})"
    return f"exit code {code}"
