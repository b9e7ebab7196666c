"""Bounded capture of a stream: keeps the last ``limit`` bytes and counts the rest.

Memory stays at most ``2 * limit`` however much a sandboxed command prints
(the hostile suite prints 100 MB). The rendered text matches
:func:`dgm.sandbox.base.cap_output`: a marker line saying how much was cut,
then the tail.
"""

from __future__ import annotations

import threading
from typing import IO


class TailBuffer:
    """Append-only byte sink that keeps only the tail (thread-safe)."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("limit must be >= 0")
        self.limit = limit
        self.total = 0
        self._buf = bytearray()
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            self.total += len(data)
            if len(data) >= self.limit:
                self._buf = bytearray(data[len(data) - self.limit:] if self.limit else b"")
                return
            self._buf += data
            if len(self._buf) > 2 * self.limit:  # trim rarely: amortised O(1) per byte
                del self._buf[: len(self._buf) - self.limit]

    @property
    def cut(self) -> int:
        """Bytes dropped from the front."""
        with self._lock:
            return max(0, self.total - self.limit)

    def text(self) -> str:
        """The kept tail as text, with the marker line when something was cut."""
        with self._lock:
            tail = bytes(self._buf[-self.limit:]) if self.limit else b""
            cut = self.total - len(tail)
        body = tail.decode("utf-8", "replace")
        return f"[... {cut} bytes cut by dgm ...]\n{body}" if cut else body


def pump(stream: IO[bytes], sink: TailBuffer, chunk: int = 1 << 16) -> None:
    """Copy a pipe into ``sink`` until EOF (run in a thread)."""
    try:
        while True:
            data = stream.read1(chunk) if hasattr(stream, "read1") else stream.read(chunk)
            if not data:
                return
            sink.write(data)
    except (OSError, ValueError):  # the pipe was closed under us at teardown
        return
