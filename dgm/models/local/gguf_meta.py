"""A minimal GGUF header reader: the key/value metadata (``general.name``,
``general.license``, context length, chat template) without loading tensors.

Only what the registry checks is needed, so this reads scalars and strings and
skips arrays; the format is https://github.com/ggml-org/ggml/blob/master/docs/gguf.md.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
MAX_KEYS = 100_000
MAX_STRING = 16 * 1024 * 1024


class GGUFError(Exception):
    """The file is not a readable GGUF file."""


def _read(fh: BinaryIO, n: int) -> bytes:
    b = fh.read(n)
    if len(b) != n:
        raise GGUFError("truncated header")
    return b


def _string(fh: BinaryIO) -> str:
    (n,) = struct.unpack("<Q", _read(fh, 8))
    if n > MAX_STRING:
        raise GGUFError(f"string of {n} bytes in the header")
    return _read(fh, n).decode("utf-8", "replace")


def _value(fh: BinaryIO, vtype: int, keep: bool) -> Any:
    if vtype in _SCALARS:
        fmt = _SCALARS[vtype]
        return struct.unpack(fmt, _read(fh, struct.calcsize(fmt)))[0]
    if vtype == _STRING:
        return _string(fh)
    if vtype == _ARRAY:
        (etype,) = struct.unpack("<I", _read(fh, 4))
        (count,) = struct.unpack("<Q", _read(fh, 8))
        if etype in _SCALARS:  # skip fixed-size arrays in one seek
            fh.seek(count * struct.calcsize(_SCALARS[etype]), 1)
        else:
            for _ in range(count):
                _value(fh, etype, False)
        return f"[array of {count}]"
    raise GGUFError(f"unknown value type {vtype}")


def read_metadata(path: Path) -> dict[str, Any]:
    """The header's key/value pairs (arrays summarised); raises GGUFError."""
    try:
        with open(path, "rb") as fh:
            if _read(fh, 4) != b"GGUF":
                raise GGUFError(f"{path} is not a GGUF file (bad magic)")
            (version,) = struct.unpack("<I", _read(fh, 4))
            if version < 2:
                raise GGUFError(f"{path}: GGUF version {version} is not supported")
            _tensors, n_kv = struct.unpack("<QQ", _read(fh, 16))
            if n_kv > MAX_KEYS:
                raise GGUFError(f"{path}: {n_kv} metadata keys")
            meta: dict[str, Any] = {"gguf.version": version}
            for _ in range(n_kv):
                key = _string(fh)
                (vtype,) = struct.unpack("<I", _read(fh, 4))
                meta[key] = _value(fh, vtype, True)
            return meta
    except OSError as exc:
        raise GGUFError(f"cannot read {path}: {exc}") from None
