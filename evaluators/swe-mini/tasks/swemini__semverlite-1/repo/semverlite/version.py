"""Semantic version comparison."""

import functools


def parse(text):
    """Split ``MAJOR.MINOR.PATCH`` into its parts; raises ValueError otherwise."""
    parts = text.strip().lstrip("v").split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a version: {text!r}")
    return tuple(parts)


def compare(a, b):
    """-1, 0 or 1 as version ``a`` is lower than, equal to or higher than ``b``."""
    pa, pb = parse(a), parse(b)
    return (pa > pb) - (pa < pb)


def latest(versions):
    """The highest version in ``versions``."""
    return max(versions, key=functools.cmp_to_key(compare))
