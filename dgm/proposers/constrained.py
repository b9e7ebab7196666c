"""Edits small models can get right: JSON answers constrained by a schema, applied in memory.

The answer schema (sent as llama.cpp's OpenAI ``response_format``) only admits
edits against the focused file (``path`` is an enum of that one path) and against
its existing text (``search`` is an enum of its shown lines that occur exactly
once), so every answer that parses names a real place to edit. What a schema
cannot say is checked here before anything is written: an edit that changes
nothing, two edits of one line, a Python file that no longer compiles. Each is
an error line the model sees on its one retry.

The same in-memory applier serves free-form answers (SEARCH/REPLACE blocks
parsed by edits.py), so the benchmark compares the two formats under one rule.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass

from dgm.proposers.edits import EditError, parse_edits
from dgm.proposers.focus import Focus


@dataclass
class TextEdit:
    path: str
    search: str  # one whole existing line (constrained) or exact existing text (free)
    replace: str


_KEEP = re.compile(r"""^(\s*(?:[\w.\[\]'"]+\s*(?:[:=]|[+\-*/]=)\s*|return\s+|if\s+|elif\s+))""")


def _escape(text: str) -> str:
    """Escape regex metacharacters only (``re.escape`` also escapes spaces, which the
    server's Rust regex engine may refuse)."""
    return "".join("\\" + ch if ch in ".^$|?*+()[]{}\\" else ch for ch in text)


def _single_line_item(line: str, replace_chars: int) -> dict:
    """One anchor line and the shape of its replacement: an assignment, a dict entry, a
    ``return`` or a condition keeps its left-hand side (only the value changes, so a tiny
    model cannot break the statement around it); any other line becomes one line of code."""
    m = _KEEP.match(line)
    # llama.cpp's llguidance matches a string's pattern against its JSON text (escapes
    # included), so the fixed part is written JSON-escaped and the free part admits no
    # bare quote, backslash or newline, only escaped quotes; its length is the quantifier.
    keep = _escape(json.dumps(m.group(1))[1:-1]) if m else " *"
    free = f'(?:[^"\\\\\\n]|\\\\"){{1,{replace_chars}}}'
    return {"type": "object",
            "properties": {"path": {"type": "string"}, "search": {"const": line},
                           "replace": {"type": "string", "pattern": f"^{keep}{free}$"}},
            "required": ["path", "search", "replace"], "additionalProperties": False}


def answer_schema(focus: Focus, max_edits: int = 3, replace_chars: int = 800,
                  single_line: bool = False) -> dict:
    """``single_line``: each replacement is one line shaped like the line it replaces
    (``_single_line_item``), for models too small to write multi-line code."""
    if single_line:
        items: dict = {"anyOf": [_single_line_item(a, replace_chars) for a in focus.anchors()]}
        for alt in items["anyOf"]:
            alt["properties"]["path"] = {"enum": [focus.path]}
        return {"type": "object",
                "properties": {"edits": {"type": "array", "minItems": 1, "maxItems": max_edits,
                                         "items": items},
                               "summary": {"type": "string", "minLength": 10, "maxLength": 100}},
                "required": ["edits", "summary"], "additionalProperties": False}
    replace: dict = {"type": "string", "maxLength": replace_chars}
    return {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "minLength": 10, "maxLength": 160},
            "edits": {
                "type": "array", "minItems": 1, "maxItems": max_edits,
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {"enum": [focus.path]},
                        "search": {"enum": focus.anchors()},
                        "replace": replace,
                    },
                    "required": ["path", "search", "replace"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["summary", "edits"],
        "additionalProperties": False,
    }


def response_format(focus: Focus, max_edits: int = 3, replace_chars: int = 800,
                    single_line: bool = False) -> dict:
    schema = answer_schema(focus, max_edits, replace_chars, single_line)
    return {"type": "json_schema", "json_schema": {"name": "edits", "strict": True, "schema": schema}}


def string_items(text: str, key: str, fields: tuple[str, ...], noun: str) -> tuple[dict, list[dict]]:
    """(the answer object, its non-empty ``key`` list of objects with string ``fields``) from a
    JSON answer; EditError says what is wrong (shared by every schema-constrained answer)."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise EditError(f"the answer is not valid JSON: {exc}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get(key), list) or not obj[key]:
        raise EditError(f"the answer must be an object with a non-empty '{key}' list")
    for i, e in enumerate(obj[key], 1):
        if not isinstance(e, dict) or not all(isinstance(e.get(k), str) for k in fields):
            raise EditError(f"{noun} {i} needs string fields {', '.join(fields[:-1])} and {fields[-1]}")
    return obj, obj[key]


def parse_json_answer(text: str) -> tuple[str, list[TextEdit]]:
    """(summary, edits) from a constrained answer; EditError says what is wrong."""
    obj, items = string_items(text, "edits", ("path", "search", "replace"), "edit")
    edits = [TextEdit(e["path"], e["search"], e["replace"]) for e in items]
    return str(obj.get("summary") or "").strip(), edits


def parse_free_answer(text: str) -> list[TextEdit]:
    """SEARCH/REPLACE blocks or diff hunks of a free-form answer, as text edits."""
    out = []
    for e in parse_edits(text):
        if e.kind != "replace":
            raise EditError(f"{e.where} ({e.path}): only edits of existing text are accepted "
                            f"here, not a {e.kind}")
        out.append(TextEdit(e.path, e.search, e.replace))
    return out


def _reindent(search_line: str, replace: str) -> str:
    """Give the replacement the anchor line's indentation (models often drop it)."""
    indent = search_line[:len(search_line) - len(search_line.lstrip())]
    body = textwrap.dedent(replace.strip("\n"))
    return "\n".join(indent + ln if ln.strip() else ln for ln in body.splitlines())


def apply_in_memory(focus: Focus, edits: list[TextEdit], whole_lines: bool) -> tuple[str, list[str], list[str]]:
    """(new text of the focused file, applied, errors); the file itself is not touched.

    ``whole_lines``: each ``search`` is one whole line (constrained answers), re-indented;
    otherwise ``search`` is exact text that must occur once in the file.
    """
    text = focus.text
    applied: list[str] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    changed = 0
    for i, e in enumerate(edits, 1):
        where = f"edit {i} ({e.path})"
        if e.path != focus.path:
            errors.append(f"{where}: only {focus.path} can be edited in this proposal; "
                          f"valid paths are {focus.paths}" if e.path not in focus.paths else
                          f"{where}: only {focus.path}, the file shown, can be edited now")
            continue
        if e.search in seen:
            if seen[e.search] == e.replace:
                applied.append(f"{where}: repeats an earlier edit (ignored)")
            else:
                errors.append(f"{where}: edits the same text as an earlier edit differently")
            continue
        seen[e.search] = e.replace
        if whole_lines:
            lines = text.split("\n")
            idx = [j for j, ln in enumerate(lines) if ln == e.search]
            if len(idx) != 1:
                errors.append(f"{where}: the line {e.search.strip()[:80]!r} occurs {len(idx)} "
                              "times in the file; pick a line that occurs once")
                continue
            new = _reindent(e.search, e.replace)
            if new.strip() == e.search.strip():
                applied.append(f"{where}: changes nothing (ignored)")
                continue
            lines[idx[0]:idx[0] + 1] = new.split("\n")
            text = "\n".join(lines)
        else:
            n = text.count(e.search) if e.search else 0
            if n != 1:
                errors.append(f"{where}: SEARCH text occurs {n} times in {focus.path}; it must "
                              "quote existing lines exactly, once")
                continue
            if e.search == e.replace:
                applied.append(f"{where}: changes nothing (ignored)")
                continue
            text = text.replace(e.search, e.replace, 1)
        changed += 1
        applied.append(f"{where}: {e.search.strip().splitlines()[0][:60] if e.search.strip() else ''!r}")
    if not errors and not changed:
        errors.append("no edit changes anything: each replacement equals the line it replaces")
    if not errors and focus.path.endswith(".py"):
        try:
            compile(text, focus.path, "exec")
        except SyntaxError as exc:
            bad = (exc.text or "").strip()[:80]
            errors.append(f"after the edits {focus.path} is not valid Python: {exc.msg} at line "
                          f"{exc.lineno} ({bad!r}); keep the code syntactically correct")
        except ValueError as exc:  # e.g. NUL bytes
            errors.append(f"after the edits {focus.path} cannot be compiled: {exc}")
    return text, applied, errors
