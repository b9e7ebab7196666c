"""The small YAML subset our task repos use, read and written without PyYAML.

PyYAML is not a dependency of dgm (swebench uses it; we do not need swebench at
run time). ``task.yaml`` and ``sweb.yaml`` only hold flat mappings of strings
and lists of strings, written the way ``yaml.dump(..., sort_keys=True,
default_flow_style=False)`` writes them (block lists, sorted keys); where a
value could be misread (numbers, booleans, leading digits) it is quoted.
Anything outside that subset is a clear error rather than a silent misread.
"""

from __future__ import annotations

import re

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./:@+-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


class YamlSubsetError(ValueError):
    pass


def _scalar(value: str) -> str:
    if _PLAIN.match(value) and value.lower() not in _RESERVED:
        return value
    return "'" + value.replace("'", "''") + "'"


def dump(data: dict[str, str | list[str]]) -> str:
    out = []
    for key in sorted(data):
        value = data[key]
        if isinstance(value, list) and not value:
            out.append(f"{key}: []")
        elif isinstance(value, list):
            out.append(f"{key}:")
            out.extend(f"- {_scalar(str(v))}" for v in value)
        else:
            out.append(f"{key}: {_scalar(str(value))}")
    return "\n".join(out) + "\n"


def _unquote(raw: str, where: str) -> str:
    raw = raw.strip()
    if raw.startswith("'"):
        if not raw.endswith("'") or len(raw) < 2:
            raise YamlSubsetError(f"{where}: unterminated quote")
        return raw[1:-1].replace("''", "'")
    if not raw or raw[0] in "\"[{&*!|>%@`#":
        raise YamlSubsetError(f"{where}: value {raw!r} is outside the supported YAML subset")
    return raw


def load(text: str, where: str = "yaml") -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {}
    current: str | None = None
    for n, line in enumerate(text.splitlines(), 1):
        at = f"{where}:{n}"
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("- ") or line.startswith("  - "):
            if current is None or not isinstance(data[current], list):
                raise YamlSubsetError(f"{at}: list item without a list key")
            data[current].append(_unquote(line.split("- ", 1)[1], at))  # type: ignore[union-attr]
            continue
        key, sep, rest = line.partition(":")
        if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            raise YamlSubsetError(f"{at}: expected 'key: value', got {line!r}")
        if key in data:
            raise YamlSubsetError(f"{at}: duplicate key {key!r}")
        if rest.strip() == "[]":
            data[key] = []
            current = None
        elif rest.strip():
            data[key] = _unquote(rest, at)
            current = None
        else:
            data[key] = []
            current = key
    return data
