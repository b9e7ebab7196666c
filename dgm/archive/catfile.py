"""Reading git objects without a git process per read.

Starting git costs more than reading a whole agent's objects through a pipe,
so each GitStore keeps one ``git cat-file --batch`` reader and sends it
object names in chunks. It is shared by threads behind a lock, restarted
when it has died (or when this process is a fork of the one that started
it), and stopped by ``close`` or, failing that, when its owner is garbage
collected.

The archive keeps its objects loose (``gc.auto = 0``), and git spends about
45 us of CPU on each loose object it serves; ``read_loose`` reads one directly
in under half of that, and leaves everything else (packed objects, names that
are not ids, damage) to git. Every object is checked against its id, since
git itself hands out a damaged loose object as it finds it.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import threading
import weakref
import zlib
from pathlib import Path

from dgm.errors import InternalError

# Names in flight at once. Every chunk of requests fits in the pipe to git
# (CHUNK_BYTES; pipes hold 64 KiB), so writing it never blocks while git waits
# for its answers to be read: no deadlock.
CHUNK = 256
CHUNK_BYTES = 32 * 1024
_NAME = re.compile(r"\S+\Z")
OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256, as git spells them


class CatFileDied(InternalError):
    """The cat-file process went away (or answered garbage) mid-exchange."""


def read_loose(objects: str, oid: str) -> tuple[str, str, bytes] | None:
    """(id, type, content) of a loose object under ``objects``, or None.

    None also when the file does not hash to its name or is damaged: git,
    asked next, then finds the object elsewhere or says what is wrong.
    """
    try:
        with open(f"{objects}/{oid[:2]}/{oid[2:]}", "rb") as f:
            raw = zlib.decompress(f.read())
    except (OSError, zlib.error):
        return None
    nul = raw.find(b"\0", 0, 64)
    if _digest(oid, raw) != oid or nul < 0:
        return None
    kind, _, size = raw[:nul].partition(b" ")
    if not size.isdigit() or int(size) != len(raw) - nul - 1:
        return None
    return oid, kind.decode("ascii", "replace"), raw[nul + 1:]


def _digest(oid: str, raw: bytes) -> str:
    return (hashlib.sha1(raw) if len(oid) == 40 else hashlib.sha256(raw)).hexdigest()


def hashes_to_its_id(obj: tuple[str, str, bytes]) -> bool:
    """Whether an object's content is what its id names (git serves a damaged loose
    object as it finds it)."""
    oid, kind, data = obj
    return _digest(oid, b"%s %d\0" % (kind.encode(), len(data)) + data) == oid


def _chunks(names: list[str]):
    """Runs of at most CHUNK names and CHUNK_BYTES of request (at least one name each)."""
    chunk: list[str] = []
    size = 0
    for n in names:
        if chunk and (len(chunk) == CHUNK or size + len(n) + 1 > CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(n)
        size += len(n) + 1
    if chunk:
        yield chunk


def _stop(proc: subprocess.Popen) -> None:
    """Close git's stdin (it exits at EOF) and reap it; kill it if it lingers."""
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:  # always pipes here; Popen types them as optional
                stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class CatFile:
    """A ``git cat-file --batch`` reader for one repository (thread safe)."""

    def __init__(self, git_dir: Path):
        self.git_dir = Path(git_dir)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._pid = 0  # the process that started _proc
        self._finalizer: weakref.finalize | None = None

    @property
    def pid(self) -> int | None:
        """The git process's pid while one runs (benchmarks read its CPU time)."""
        return self._proc.pid if self._proc is not None else None

    def _start(self) -> None:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        self._proc = subprocess.Popen(
            ["git", f"--git-dir={self.git_dir}", "cat-file", "--batch"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self._pid = os.getpid()
        self._finalizer = weakref.finalize(self, _stop, self._proc)

    def _discard(self) -> None:
        """Forget the process: stop it if it is ours, leave it alone in a forked child."""
        if self._proc is not None and self._finalizer is not None:  # _start sets both
            if self._pid == os.getpid():
                self._finalizer()  # runs _stop once
            else:
                self._finalizer.detach()
        self._proc = self._finalizer = None

    def close(self) -> None:
        with self._lock:
            self._discard()

    def read(self, names: list[str]) -> list[tuple[str, str, bytes] | None]:
        """(object id, type, content) for each name, None where git has no such object.

        A name is anything git resolves (``<commit>^{tree}``, an object id); it
        must not hold whitespace. A reader that died is restarted once.
        """
        for n in names:
            if not _NAME.match(n):  # a newline would desynchronise the protocol
                raise ValueError(f"not an object name: {n!r}")
        with self._lock:
            for attempt in (1, 2):
                if self._proc is None or self._pid != os.getpid() or self._proc.poll() is not None:
                    self._discard()
                    self._start()
                try:
                    out: list[tuple[str, str, bytes] | None] = []
                    for chunk in _chunks(names):
                        out.extend(self._exchange(chunk))
                    return out
                except (CatFileDied, OSError, ValueError) as exc:
                    self._discard()  # the stream's position is unknown now
                    if attempt == 2:
                        raise CatFileDied(f"git cat-file --batch in {self.git_dir} failed: "
                                          f"{exc}") from None
        raise AssertionError("unreachable")

    def _exchange(self, names: list[str]) -> list[tuple[str, str, bytes] | None]:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:  # read() started it, with pipes
            raise CatFileDied("no running process")
        stdin, stdout = proc.stdin, proc.stdout
        stdin.write("".join(n + "\n" for n in names).encode())
        stdin.flush()
        out: list[tuple[str, str, bytes] | None] = []
        for _ in names:
            header = stdout.readline()
            if not header.endswith(b"\n"):
                raise CatFileDied("the process exited")
            parts = header.split()
            if len(parts) != 3:  # "<name> missing" / "<name> ambiguous"
                out.append(None)
                continue
            size = int(parts[2])
            data = stdout.read(size)
            if len(data) != size or stdout.read(1) != b"\n":
                raise CatFileDied("truncated object")
            out.append((parts[0].decode(), parts[1].decode(), data))
        return out
