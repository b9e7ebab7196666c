"""The one way the host reads what a sandbox left behind.

Everything under a directory a sandbox could write is hostile data: any path
component may be a symlink (to ``/``, to ``/proc/self/fd/N``), a fifo that
blocks the reader, a sparse file declaring gigabytes, a compressed member
that inflates a thousandfold, or JSON nested deep enough to crash the parser.
Every function here

- walks the path one component at a time from an ``O_DIRECTORY|O_NOFOLLOW``
  descriptor of the root (``openat``), so no link is followed anywhere below
  the root, and ``..`` or an absolute part is refused;
- accepts regular files only (checked with ``fstat`` on the open descriptor,
  so the check and the read see the same file);
- caps what it reads, and for ``.npz``/``.npy`` caps what *decompresses*: the
  array headers are read first, every member's size is computed from its
  declared shape and checked against the limits before a byte of data is
  allocated, and no more than that many bytes are ever inflated;
- raises :class:`Rejected` with a one-line reason, which a suite turns into a
  score of 0 with that reason (never a crash of the engine).

The rule for writing is the mirror image: the host never writes into a
directory an agent could have written. Its own inputs go to a fresh host-side
directory (:func:`fresh_dir`) that is mounted read-only.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import zipfile
from io import BufferedIOBase
from pathlib import Path
from typing import Any, cast

import numpy as np

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK = 1 << 16
# dtypes an output array may have: numbers, bools and fixed-size strings; never objects.
_ARRAY_KINDS = set("biufcSU")


class Rejected(Exception):
    """What a sandbox left behind cannot be used; the message says why, in one line."""


def _parts(rel: str | os.PathLike) -> tuple[str, ...]:
    text = os.fspath(rel)
    if text.startswith("/"):
        raise Rejected(f"{text!r}: an absolute path where a relative one was expected")
    parts = tuple(p for p in text.split("/") if p not in ("", "."))
    if any(p == ".." for p in parts):
        raise Rejected(f"{text!r}: '..' is not allowed")
    return parts


def open_dir(root: str | os.PathLike, rel: str | os.PathLike = "") -> int:
    """An fd of the directory ``root/rel``; no symlink followed below ``root``."""
    try:
        fd = os.open(root, _DIR_FLAGS)
    except OSError as exc:
        raise Rejected(f"{os.fspath(root)}: cannot open ({exc.strerror})") from None
    for part in _parts(rel):
        try:
            nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            os.close(fd)
            why = "a symbolic link or not a directory" if exc.errno in (40, 20) else exc.strerror
            raise Rejected(f"{os.fspath(rel)}: {part!r} is {why}") from None
        os.close(fd)
        fd = nfd
    return fd


def open_file(root: str | os.PathLike, rel: str | os.PathLike) -> tuple[int, os.stat_result]:
    """An fd of the regular file ``root/rel`` and its stat; no symlink followed below ``root``."""
    parts = _parts(rel)
    if not parts:
        raise Rejected("no file name given")
    dfd = open_dir(root, "/".join(parts[:-1]))
    try:
        fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=dfd)
    except FileNotFoundError:
        raise Rejected(f"{os.fspath(rel)}: no such file") from None
    except OSError as exc:
        why = "a symbolic link" if exc.errno == 40 else exc.strerror
        raise Rejected(f"{os.fspath(rel)}: is {why}") from None
    finally:
        os.close(dfd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise Rejected(f"{os.fspath(rel)}: not a regular file")
    return fd, st


def exists(root: str | os.PathLike, rel: str | os.PathLike) -> bool:
    """Whether ``root/rel`` is a regular file reachable without links."""
    try:
        fd, _ = open_file(root, rel)
    except Rejected:
        return False
    os.close(fd)
    return True


def _read_fd(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left > 0:
        data = os.read(fd, min(left, _CHUNK))
        if not data:
            break
        chunks.append(data)
        left -= len(data)
    return b"".join(chunks)


def read_bytes(root: str | os.PathLike, rel: str | os.PathLike, limit: int,
               tail: bool = False, strict: bool = True) -> tuple[bytes, int]:
    """(content, full size) of a regular file.

    ``strict``: a file larger than ``limit`` is rejected. Otherwise the first
    (or, with ``tail``, the last) ``limit`` bytes are returned.
    """
    fd, st = open_file(root, rel)
    try:
        if st.st_size > limit:
            if strict:
                raise Rejected(f"{os.fspath(rel)}: {st.st_size} bytes, more than the {limit} allowed")
            if tail:
                os.lseek(fd, st.st_size - limit, os.SEEK_SET)
        return _read_fd(fd, limit), st.st_size
    finally:
        os.close(fd)


def read_text(root: str | os.PathLike, rel: str | os.PathLike, limit: int,
              tail: bool = True) -> tuple[str, int] | None:
    """A log-like file as text (undecodable bytes replaced), cut to ``limit`` bytes; None if unusable."""
    try:
        data, size = read_bytes(root, rel, limit, tail=tail, strict=False)
    except Rejected:
        return None
    return data.decode("utf-8", "replace"), size


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(data: bytes) -> int:
    """The deepest bracket nesting of a JSON text (strings skipped), without recursion."""
    depth = best = 0
    for m in _BRACKETS.finditer(_STRING.sub(b'""', data)):
        depth += 1 if m.group() in (b"[", b"{") else -1
        best = max(best, depth)
    return best


def parse_json(data: bytes, max_depth: int = 32, what: str = "JSON") -> Any:
    """``json.loads`` that never recurses past ``max_depth`` and rejects instead of raising."""
    if json_depth(data) > max_depth:
        raise Rejected(f"{what}: nested deeper than {max_depth} levels")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise Rejected(f"{what}: not valid JSON ({str(exc)[:80]})") from None


def read_json(root: str | os.PathLike, rel: str | os.PathLike, max_bytes: int = 1 << 20,
              max_depth: int = 32) -> Any:
    """A JSON file of at most ``max_bytes`` bytes and ``max_depth`` levels."""
    data, _ = read_bytes(root, rel, max_bytes)
    return parse_json(data, max_depth, os.fspath(rel))


# ----------------------------------------------------------------------------- numpy


def _read_array(fh: BufferedIOBase, what: str, budget: list[int], max_member: int) -> np.ndarray:
    """One .npy stream: header first, size checked against the caps, then exactly that many bytes."""
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=10000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=10000)
        else:
            raise Rejected(f"{what}: unsupported .npy version {version}")
    except Rejected:
        raise
    except Exception as exc:  # noqa: BLE001 - any malformed header is the agent's fault
        raise Rejected(f"{what}: not a .npy array ({type(exc).__name__}: {str(exc)[:80]})") from None
    if dtype.hasobject or dtype.kind not in _ARRAY_KINDS or dtype.fields is not None:
        raise Rejected(f"{what}: dtype {dtype} is not allowed (numbers and strings only)")
    count = 1
    for d in shape:
        count *= int(d)
    nbytes = count * dtype.itemsize
    if nbytes > max_member:
        raise Rejected(f"{what}: declares {nbytes} bytes, more than the {max_member} allowed per array")
    if nbytes > budget[0]:
        raise Rejected(f"{what}: the arrays decompress to more than the {budget[1]} bytes allowed")
    budget[0] -= nbytes
    buf = bytearray(nbytes)
    view, got = memoryview(buf), 0
    while got < nbytes:
        n = fh.readinto(view[got:got + _CHUNK])
        if not n:
            raise Rejected(f"{what}: truncated ({got} of {nbytes} bytes)")
        got += n
    arr = np.frombuffer(buf, dtype=dtype, count=count)
    return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)


def load_npz(root: str | os.PathLike, rel: str | os.PathLike, *, max_file_bytes: int,
             max_total_bytes: int, max_members: int = 256,
             max_member_bytes: int | None = None) -> dict[str, np.ndarray]:
    """The arrays of a ``.npz`` (or a single ``.npy``, keyed ``"arr_0"``), within the caps.

    ``max_file_bytes`` bounds the file on disk, ``max_total_bytes`` the sum of
    the decompressed arrays, ``max_members`` the number of entries; no pickle.
    """
    fd, st = open_file(root, rel)
    what = os.fspath(rel)
    budget = [max_total_bytes, max_total_bytes]
    per = max_total_bytes if max_member_bytes is None else max_member_bytes
    with os.fdopen(fd, "rb") as fh:
        if st.st_size > max_file_bytes:
            raise Rejected(f"{what}: {st.st_size} bytes on disk, more than the {max_file_bytes} allowed")
        head = fh.read(6)
        fh.seek(0)
        if head.startswith(b"\x93NUMPY"):
            return {"arr_0": _read_array(fh, what, budget, per)}
        try:
            zf = zipfile.ZipFile(fh)
            infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise Rejected(f"{what}: not an .npz file ({str(exc)[:80]})") from None
        with zf:
            if len(infos) > max_members:
                raise Rejected(f"{what}: {len(infos)} members, more than the {max_members} allowed")
            out: dict[str, np.ndarray] = {}
            for info in infos:
                if not info.filename.endswith(".npy") or info.is_dir():
                    raise Rejected(f"{what}: member {info.filename[:60]!r} is not an .npy array")
                key = info.filename[:-4]
                if key in out:
                    raise Rejected(f"{what}: member {key[:60]!r} appears twice")
                try:
                    with zf.open(info) as member:  # a ZipExtFile, typed as a plain IO[bytes]
                        out[key] = _read_array(cast(BufferedIOBase, member), f"{what}:{key[:60]}", budget, per)
                except Rejected:
                    raise
                except Exception as exc:  # noqa: BLE001 - corrupt stream, bad CRC, encryption...
                    raise Rejected(f"{what}: member {key[:60]!r} unreadable "
                                   f"({type(exc).__name__}: {str(exc)[:80]})") from None
            return out


# ----------------------------------------------------------------------------- trees


def file_cost(st: os.stat_result) -> int:
    """Bytes a file costs against a quota: its apparent size, or its blocks if more.

    A sparse file costs a tmpfs nothing, but a copy (or a reader) pays its
    apparent size, so that is what counts.
    """
    return max(st.st_size, getattr(st, "st_blocks", 0) * 512)


def tree_bytes(root: str | os.PathLike, rel: str | os.PathLike = "") -> int:
    """Bytes of the regular files under ``root/rel`` at their apparent size; links not followed.

    Iterative over directory fds, so a very deep tree cannot exhaust recursion.
    """
    total = 0
    stack = [open_dir(root, rel)]
    try:
        while stack:
            dfd = stack.pop()
            try:
                for name in os.listdir(dfd):
                    st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                    if stat.S_ISREG(st.st_mode):
                        total += file_cost(st)
                    elif stat.S_ISDIR(st.st_mode):
                        try:
                            stack.append(os.open(name, _DIR_FLAGS, dir_fd=dfd))
                        except OSError:
                            pass
            finally:
                os.close(dfd)
    finally:
        for fd in stack:
            os.close(fd)
    return total


def copy_tree(root: str | os.PathLike, rel: str | os.PathLike, dest: str | os.PathLike, *,
              max_bytes: int, max_files: int = 100_000) -> int:
    """Copy the directory ``root/rel`` to the new directory ``dest``; returns the bytes copied.

    Only regular files and directories are copied (symlinks, fifos, sockets
    and devices are skipped, never followed); modes are reduced to 0755/0644.
    Files count at their apparent size, and the copy is refused (``dest``
    removed) once ``max_bytes`` or ``max_files`` would be passed. ``dest``
    must not exist: it is created here, by the host, so nothing in it can be
    a planted link.
    """
    import shutil

    dest = Path(dest)
    os.mkdir(dest, 0o755)
    total = files = 0
    stack = [(open_dir(root, rel), dest)]
    try:
        while stack:
            dfd, ddir = stack.pop()
            try:
                for name in sorted(os.listdir(dfd)):
                    st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                    target = ddir / name
                    if stat.S_ISDIR(st.st_mode):
                        os.mkdir(target, 0o755)
                        stack.append((os.open(name, _DIR_FLAGS, dir_fd=dfd), target))
                        continue
                    if not stat.S_ISREG(st.st_mode):
                        continue
                    files += 1
                    total += file_cost(st)
                    if files > max_files:
                        raise Rejected(f"{os.fspath(rel)}: more than {max_files} files")
                    if total > max_bytes:
                        raise Rejected(f"{os.fspath(rel)}: more than {max_bytes} bytes "
                                       "(files count at their apparent size)")
                    _copy_file(dfd, name, target, st.st_size)
            finally:
                os.close(dfd)
    except BaseException:
        for fd, _ in stack:
            os.close(fd)
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return total


def copy_counted(src: int, target: str | os.PathLike, size: int, mode: int = 0o644) -> None:
    """Copy at most ``size`` bytes (what was counted, even if the file grew meanwhile) from
    the open ``src`` into a new ``target``, never through a link."""
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        left = size
        while left > 0:
            data = os.read(src, min(left, 1 << 20))
            if not data:
                break
            os.write(out, data)
            left -= len(data)
    finally:
        os.close(out)


def _copy_file(dfd: int, name: str, target: Path, size: int) -> None:
    src = os.open(name, _FILE_FLAGS, dir_fd=dfd)
    try:
        if stat.S_ISREG(os.fstat(src).st_mode):
            copy_counted(src, target, size)
    finally:
        os.close(src)


def fresh_dir(parent: str | os.PathLike, prefix: str) -> Path:
    """A new, empty, host-owned directory for the host's own files (mount it read-only)."""
    Path(parent).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(path, 0o755)  # the sandbox user reads it (through a read-only mount)
    return path


def list_files(root: str | os.PathLike, rel: str | os.PathLike = "", max_files: int = 50) -> list[str]:
    """Names of the regular files directly in ``root/rel`` (no links followed), sorted, capped."""
    try:
        dfd = open_dir(root, rel)
    except Rejected:
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
