"""Look up values in nested dicts and lists with ``a.b[0].c`` paths."""

import re

_TOKEN = re.compile(r"\[(\d)\]|([^.\[\]]+)")
_MISSING = object()


class PathError(ValueError):
    pass


def _tokens(path):
    tokens = []
    for index, key in _TOKEN.findall(path):
        tokens.append(int(index) if index else key)
    if not tokens:
        raise PathError(f"empty path: {path!r}")
    return tokens


def get_path(data, path, default=_MISSING):
    """The value at ``path``; ``default`` if some part is missing (KeyError without one)."""
    value = data
    for token in _tokens(path):
        try:
            value = value[token]
        except KeyError:
            if default is _MISSING:
                raise
            return default
    return value
