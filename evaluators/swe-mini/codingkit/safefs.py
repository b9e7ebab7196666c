"""Reading files an agent could have tampered with, from the host, safely.

A sandboxed agent can replace anything under its writable mounts with a
symlink (``/scratch/out -> /``). Docker resolves such a link inside the
container, but the host resolves it on the host, so a naive ``read_text`` of
``scratch/out/transcript.md`` could copy a host file into an artifact. Every
read here walks the path one component at a time with ``O_NOFOLLOW`` and
accepts regular files only, and reads at most ``limit`` bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


def _open_dir(root: Path, parts: tuple[str, ...]) -> int | None:
    try:
        fd = os.open(root, _DIR_FLAGS)
    except OSError:
        return None
    for part in parts:
        if part in ("", ".", ".."):
            os.close(fd)
            return None
        try:
            nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError:
            os.close(fd)
            return None
        os.close(fd)
        fd = nfd
    return fd


def read_beneath(root: Path, rel: str, limit: int, tail: bool = True) -> tuple[str, int] | None:
    """Read ``root/rel`` (a regular file, no symlink anywhere below root).

    Returns (text, full size in bytes), keeping the last (``tail``) or first
    ``limit`` bytes, or None if it is missing or not a plain file.
    """
    parts = Path(rel).parts
    if not parts:
        return None
    dfd = _open_dir(root, parts[:-1])
    if dfd is None:
        return None
    try:
        fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dfd)
    except OSError:
        return None
    finally:
        os.close(dfd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        if tail and st.st_size > limit:
            os.lseek(fd, st.st_size - limit, os.SEEK_SET)
        chunks, left = [], limit
        while left > 0:
            data = os.read(fd, min(left, 1 << 16))
            if not data:
                break
            chunks.append(data)
            left -= len(data)
        return b"".join(chunks).decode("utf-8", "replace"), st.st_size
    finally:
        os.close(fd)


def list_files(root: Path, rel: str = "", max_files: int = 50) -> list[str]:
    """Regular files directly in ``root/rel`` (no symlinks followed), sorted, at most max_files."""
    dfd = _open_dir(root, Path(rel).parts if rel else ())
    if dfd is None:
        return []
    try:
        names = []
        for name in sorted(os.listdir(dfd)):
            try:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                names.append(name)
            if len(names) >= max_files:
                break
        return names
    finally:
        os.close(dfd)
