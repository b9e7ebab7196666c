"""The editor tool: view (with line ranges), create, str_replace and insert.

Relative paths are resolved against the repository the agent works on.
``str_replace`` demands that ``old_str`` occurs exactly once, so an edit can
never land in the wrong place; errors say what was found instead.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_VIEW = 16_000
_ROOT: Path = Path.cwd()


def configure(root: str) -> None:
    global _ROOT
    _ROOT = Path(root)


def tool_info() -> dict:
    return {
        "name": "editor",
        "description": (
            "View and edit files. Commands:\n"
            "- view: show a file with line numbers (optionally view_range [start, end], 1-based, "
            "end -1 for the end of file), or list a directory two levels deep.\n"
            "- create: write file_text to a new file (or overwrite an existing one).\n"
            "- str_replace: replace old_str, which must occur exactly once in the file, "
            "with new_str (include enough surrounding lines to make old_str unique).\n"
            "- insert: insert new_str after line insert_line (0 = at the top).\n"
            "Paths may be absolute or relative to the repository."),
        "input_schema": {
            "type": "object",
            "properties": {
                "command": {"type": "string", "enum": ["view", "create", "str_replace", "insert"]},
                "path": {"type": "string"},
                "view_range": {"type": "array", "items": {"type": "integer"}},
                "file_text": {"type": "string"},
                "old_str": {"type": "string"},
                "new_str": {"type": "string"},
                "insert_line": {"type": "integer"},
            },
            "required": ["command", "path"],
        },
    }


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else _ROOT / p


def _numbered(lines: list[str], start: int) -> str:
    return "\n".join(f"{i:6}\t{line}" for i, line in enumerate(lines, start))


def _clip(text: str) -> str:
    if len(text) <= MAX_VIEW:
        return text
    return text[:MAX_VIEW] + "\n[... output truncated: use view_range to see the rest ...]"


def _view_dir(p: Path) -> str:
    out = []
    for dirpath, dirnames, filenames in os.walk(p):
        depth = Path(dirpath).relative_to(p).parts
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        if len(depth) >= 2:
            dirnames[:] = []
        for name in sorted(filenames):
            if not name.startswith("."):
                out.append(str(Path(dirpath, name).relative_to(p)))
    return f"Files in {p} (two levels):\n" + _clip("\n".join(out) or "(empty)")


def _read(p: Path) -> str:
    if not p.exists():
        raise ValueError(f"{p} does not exist")
    if p.is_dir():
        raise ValueError(f"{p} is a directory")
    try:
        return p.read_text()
    except UnicodeDecodeError:
        raise ValueError(f"{p} is not a UTF-8 text file") from None


def view(p: Path, view_range: list[int] | None = None) -> str:
    if p.is_dir():
        return _view_dir(p)
    lines = _read(p).splitlines()
    if view_range:
        if len(view_range) != 2:
            raise ValueError("view_range must be [start, end]")
        start, end = int(view_range[0]), int(view_range[1])
        end = len(lines) if end == -1 else end
        if start < 1 or start > max(len(lines), 1) or end < start:
            raise ValueError(f"invalid view_range {view_range}: the file has {len(lines)} lines")
        return _clip(_numbered(lines[start - 1:end], start))
    return _clip(_numbered(lines, 1)) if lines else f"{p} is empty."


def create(p: Path, file_text: str) -> str:
    existed = p.exists()
    if p.is_dir():
        raise ValueError(f"{p} is a directory")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(file_text)
    n = len(file_text.splitlines())
    return f"{'Overwrote' if existed else 'Created'} {p} ({n} lines)."


def str_replace(p: Path, old_str: str, new_str: str) -> str:
    text = _read(p)
    if not old_str:
        raise ValueError("old_str is empty; use insert to add text")
    count = text.count(old_str)
    if count == 0:
        stripped = old_str.strip()
        hint = " (it does occur with different surrounding whitespace)" \
            if stripped and stripped in text else ""
        raise ValueError(f"old_str was not found in {p}{hint}; view the file and copy the exact text")
    if count > 1:
        lines = [text[:i].count("\n") + 1 for i in _positions(text, old_str)][:6]
        raise ValueError(f"old_str occurs {count} times in {p} (lines {lines}); include more "
                         "surrounding lines to make it unique")
    new_text = text.replace(old_str, new_str, 1)
    p.write_text(new_text)
    line = text[:text.index(old_str)].count("\n") + 1
    shown = new_text.splitlines()[max(0, line - 3): line + len(new_str.splitlines()) + 2]
    return f"Edited {p}. The changed region now reads:\n" + _numbered(shown, max(1, line - 2))


def _positions(text: str, sub: str) -> list[int]:
    out, i = [], text.find(sub)
    while i != -1:
        out.append(i)
        i = text.find(sub, i + 1)
    return out


def insert(p: Path, insert_line: int, new_str: str) -> str:
    lines = _read(p).splitlines(keepends=True)
    if insert_line < 0 or insert_line > len(lines):
        raise ValueError(f"insert_line {insert_line} is out of range: the file has {len(lines)} lines")
    if lines and not lines[-1].endswith("\n") and insert_line == len(lines):
        lines[-1] += "\n"
    block = new_str if new_str.endswith("\n") else new_str + "\n"
    lines[insert_line:insert_line] = [block]
    p.write_text("".join(lines))
    return f"Inserted {len(new_str.splitlines())} lines after line {insert_line} of {p}."


def tool_function(command: str, path: str, view_range: list[int] | None = None,
                  file_text: str | None = None, old_str: str | None = None,
                  new_str: str | None = None, insert_line: int | None = None) -> str:
    p = _resolve(path)
    try:
        if command == "view":
            return view(p, view_range)
        if command == "create":
            if file_text is None:
                raise ValueError("create needs file_text")
            return create(p, file_text)
        if command == "str_replace":
            if old_str is None:
                raise ValueError("str_replace needs old_str (and new_str)")
            return str_replace(p, old_str, new_str or "")
        if command == "insert":
            if insert_line is None or new_str is None:
                raise ValueError("insert needs insert_line and new_str")
            return insert(p, int(insert_line), new_str)
        raise ValueError(f"unknown command {command!r}: use view, create, str_replace or insert")
    except (ValueError, OSError) as exc:
        return f"Error: {exc}"
