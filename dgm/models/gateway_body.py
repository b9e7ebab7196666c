"""Reading a request body with a hard cap, whatever its headers claim.

A body is read only after the caller's key has been checked, and never more
than ``cap`` bytes of it: the cap holds for ``Content-Length`` bodies (which
must be plain decimal digits), for chunked bodies (counted as they arrive, each
chunk-size line and trailer line bounded too) and for any mix of lies in
between. Anything else is refused:

- both ``Content-Length`` and ``Transfer-Encoding`` (request smuggling), or
  several differing ``Content-Length`` headers: 400;
- a ``Transfer-Encoding`` other than exactly ``chunked``: 501;
- a negative, signed, spaced, non-decimal or oversized length: 400 / 413.

Reads happen in pieces of at most 64 KiB, so memory stays at about ``cap``
per request however large the claimed or streamed body is.
"""

from __future__ import annotations

import re
from io import BufferedIOBase

PIECE = 64 * 1024
MAX_LINE = 1024  # a chunk-size line or a trailer line
MAX_TRAILERS = 32
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")


class BodyError(Exception):
    """The body was refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def read_body(rfile: BufferedIOBase, headers, cap: int) -> bytes:
    """The request body (at most ``cap`` bytes) per ``headers`` (an ``email.message.Message``)."""
    lengths = headers.get_all("Content-Length") or []
    codings = headers.get_all("Transfer-Encoding") or []
    if lengths and codings:
        raise BodyError(400, "both Content-Length and Transfer-Encoding given")
    if codings:
        if len(codings) != 1 or codings[0].strip().lower() != "chunked":
            raise BodyError(501, f"Transfer-Encoding {', '.join(codings)!r} is not supported "
                            "(only chunked)")
        return _read_chunked(rfile, cap)
    if not lengths:
        return b""
    if len({v.strip() for v in lengths}) != 1:
        raise BodyError(400, "several different Content-Length headers")
    text = lengths[0].strip()
    if not text.isdigit() or not text.isascii() or len(text) > 18:
        raise BodyError(400, f"Content-Length {lengths[0]!r} is not a plain decimal length")
    length = int(text)
    if length > cap:
        raise BodyError(413, f"request of {length} bytes exceeds the gateway's limit of {cap}")
    return _read_exact(rfile, length)


def _read_exact(rfile: BufferedIOBase, n: int) -> bytes:
    parts: list[bytes] = []
    while n > 0:
        piece = rfile.read(min(n, PIECE))
        if not piece:
            raise BodyError(400, "the body ended before its declared length")
        parts.append(piece)
        n -= len(piece)
    return b"".join(parts)


def _line(rfile: BufferedIOBase) -> bytes:
    line = rfile.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise BodyError(400, f"a chunk line is longer than {MAX_LINE} bytes")
    if not line.endswith(b"\n"):
        raise BodyError(400, "the chunked body ended early")
    return line.rstrip(b"\r\n")


def _read_chunked(rfile: BufferedIOBase, cap: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_text = _line(rfile).split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            raise BodyError(400, f"bad chunk size {size_text[:40]!r}")
        size = int(size_text, 16)
        if size == 0:
            break
        total += size
        if total > cap:
            raise BodyError(413, f"chunked request exceeds the gateway's limit of {cap} bytes")
        parts.append(_read_exact(rfile, size))
        if _line(rfile) != b"":
            raise BodyError(400, "a chunk is not followed by CRLF")
    for _ in range(MAX_TRAILERS + 1):
        if _line(rfile) == b"":
            return b"".join(parts)
    raise BodyError(400, f"more than {MAX_TRAILERS} trailer lines")
