"""One long-lived ``git cat-file --batch`` process: read objects without a process each.

Starting git costs more than reading a whole agent's objects through a pipe,
so each GitStore keeps one reader and sends it object names in chunks. It is
shared by threads behind a lock, restarted when it has died (or when this
process is a fork of the one that started it), and stopped by ``close`` or,
failing that, when its owner is garbage collected.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import weakref
from pathlib import Path

# Names in flight at once. Every chunk of requests fits in the pipe to git
# (about 100 bytes a name at most, pipes hold 64 KiB), so writing it never
# blocks while git waits for its answers to be read: no deadlock.
CHUNK = 256
_NAME = re.compile(r"\S+\Z")


class CatFileDied(Exception):
    """The cat-file process went away (or answered garbage) mid-exchange."""


def _stop(proc: subprocess.Popen) -> None:
    """Close git's stdin (it exits at EOF) and reap it; kill it if it lingers."""
    for stream in (proc.stdin, proc.stdout):
        try:
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
        if self._proc is not None:
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
                    for i in range(0, len(names), CHUNK):
                        out.extend(self._exchange(names[i:i + CHUNK]))
                    return out
                except (CatFileDied, OSError, ValueError) as exc:
                    self._discard()  # the stream's position is unknown now
                    if attempt == 2:
                        raise CatFileDied(f"git cat-file --batch in {self.git_dir} failed: "
                                          f"{exc}") from None
        raise AssertionError("unreachable")

    def _exchange(self, names: list[str]) -> list[tuple[str, str, bytes] | None]:
        stdin, stdout = self._proc.stdin, self._proc.stdout
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
