"""Archive creation beside its final path: ``.NAME.creating-PID``, renamed into place.

A staging directory is never an archive to anyone else: selection skips it
(``is_staging``), a later creation removes those whose creator is dead, and of
two runs racing for one new path the loser gets a clear "already exists".
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from dgm.errors import DgmError
from dgm.archive.gitstore import GitError

STAGING = re.compile(r"^\.(?P<name>.+)\.creating-(?P<pid>\d{1,10})$")


def staging_path(path: Path) -> Path:
    return path.parent / f".{path.name}.creating-{os.getpid()}"


def is_staging(path: Path) -> bool:
    return STAGING.match(path.name) is not None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(parent: Path) -> list[Path]:
    """Remove staging directories under ``parent`` whose creating process is gone."""
    removed: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = STAGING.match(entry.name)
        if m and int(m["pid"]) != os.getpid() and not _alive(int(m["pid"])) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def publish(staging: Path, path: Path) -> None:
    """Rename the finished staging directory to ``path``; the loser of a race is told so."""
    try:
        os.rename(staging, path)  # replaces only an empty directory, atomically
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise DgmError(f"{path} already exists (another run created it first); "
                           "choose a new directory or resume it with --archive") from None
        raise DgmError(f"cannot create the archive at {path}: {exc.strerror or exc}") from None


@contextmanager
def staged(path: Path) -> Iterator[Path]:
    """Build an archive in the yielded staging directory; on success it becomes ``path``.
    A failure (a full disk, ...) is one DgmError line and leaves nothing behind."""
    staging = staging_path(path)
    remove_stale(path.parent)  # what killed creations left
    shutil.rmtree(staging, ignore_errors=True)
    try:
        yield staging
    except (OSError, sqlite3.Error, GitError, subprocess.CalledProcessError) as exc:
        raise creation_failed(staging, path, exc) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    publish(staging, path)


def creation_failed(staging: Path, path: Path, exc: BaseException) -> DgmError:
    """The one line for a creation that failed part-way (a full disk, ...); nothing is left."""
    shutil.rmtree(staging, ignore_errors=True)
    why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    if isinstance(exc, subprocess.CalledProcessError) and exc.stderr:  # git's own words
        text = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else exc.stderr
        why = (text.strip().splitlines() or [why])[-1]
    return DgmError(f"cannot create the archive at {path}: {why}")
