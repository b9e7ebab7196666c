"""In-sandbox: plain values as JSON lines between the checker and the candidate process.

Only data crosses: None, bool, int, float (NaN and infinities included), str,
bytes, and lists, tuples, dicts, sets and frozensets of those. An object with
a rigged ``__eq__`` cannot cross, so what the checker compares is a value it
built itself. Decoding is iterative-free but depth-limited by the encoder's
recursion (a value nested deeper than ``MAX_DEPTH`` is refused).
"""

from __future__ import annotations

import json

MAX_DEPTH = 200


class Unsupported(TypeError):
    """A value that cannot cross the pipe."""


def encode(value, depth: int = 0):
    if depth > MAX_DEPTH:
        raise Unsupported(f"value nested deeper than {MAX_DEPTH} levels")
    t = type(value)
    if value is None or t in (bool, int, str):
        return value
    if t is float:
        return {"f": repr(value)}
    if t is bytes:
        return {"b": value.hex()}
    if t in (list, tuple, set, frozenset):
        tag = {list: "l", tuple: "t", set: "s", frozenset: "z"}[t]
        return {tag: [encode(v, depth + 1) for v in value]}
    if t is dict:
        return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    raise Unsupported(f"a {t.__name__} cannot be returned (plain values only)")


def decode(obj, depth: int = 0):
    if depth > MAX_DEPTH:
        raise Unsupported(f"value nested deeper than {MAX_DEPTH} levels")
    if obj is None or type(obj) in (bool, int, str):
        return obj
    if type(obj) is not dict or len(obj) != 1:
        raise Unsupported("malformed value on the pipe")
    (tag, v), = obj.items()
    if tag == "f":
        return float(v)
    if tag == "b":
        return bytes.fromhex(v)
    if tag in ("l", "t", "s", "z"):
        items = [decode(x, depth + 1) for x in v]
        return {"l": list, "t": tuple, "s": set, "z": frozenset}[tag](items)
    if tag == "d":
        return {decode(k, depth + 1): decode(x, depth + 1) for k, x in v}
    raise Unsupported(f"unknown tag {tag!r} on the pipe")


def dumps(value) -> bytes:
    return (json.dumps(encode(value), separators=(",", ":")) + "\n").encode()


def loads(line: bytes):
    return decode(json.loads(line))
