"""Reading files an agent could have tampered with, from the host, safely.

A thin name for the coding suites over :mod:`dgm.sandbox.readback`, the one
reader every suite uses: no symlink followed at any path component, regular
files only, at most ``limit`` bytes.
"""

from __future__ import annotations

from pathlib import Path

from dgm.sandbox.readback import Rejected, list_files, read_bytes, read_json, read_text

__all__ = ["Rejected", "list_files", "read_beneath", "read_bytes", "read_json"]


def read_beneath(root: Path, rel: str, limit: int, tail: bool = True) -> tuple[str, int] | None:
    """(text, full size) of ``root/rel``, the last (``tail``) or first ``limit`` bytes; None if unusable."""
    return read_text(root, rel, limit, tail=tail)
