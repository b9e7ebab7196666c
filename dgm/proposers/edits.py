"""Edits a model writes: search/replace blocks and unified diffs, parsed and applied.

Accepted formats (any mix, in one answer)::

    path/to/file.py                 ```python              path/to/file.py
    <<<<<<< SEARCH                  path/to/file.py        ```python
    old lines                       <<<<<<< SEARCH         <<<<<<< SEARCH
    =======                         ...                    ...
    new lines                       >>>>>>> REPLACE        >>>>>>> REPLACE
    >>>>>>> REPLACE                 ```                    ```

An empty SEARCH creates a new file. A unified diff (``--- a/x`` / ``+++ b/x`` /
``@@`` hunks, fenced or not) is read hunk by hunk as search/replace pairs, so
wrong line numbers in ``@@`` headers do not matter; ``/dev/null`` creates or
deletes a file.

Nothing is ever skipped silently: a half block, a stray marker, a path outside
the agent, binary content, an oversized answer, a SEARCH that matches nowhere
or in several places: each is an ``EditError`` (parsing) or one line in
``ApplyReport.errors`` (applying) naming the block and the reason.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from dgm.errors import DgmError

MAX_ANSWER_CHARS = 400_000
MAX_FILE_BYTES = 512 * 1024  # as dgm.archive.diffcheck

_HEAD = re.compile(r"^\s*<{5,9}\s*SEARCH\s*$")
_DIV = re.compile(r"^\s*={5,9}\s*$")
_UPD = re.compile(r"^\s*>{5,9}\s*REPLACE\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


class EditError(DgmError):
    """The answer cannot be read as edits; the message says where and why."""


@dataclass
class Edit:
    path: str
    search: str
    replace: str
    kind: str = "replace"  # replace | create | delete | insert (a diff hunk with no context)
    where: str = ""  # "block 2" / "diff hunk 1 of x.py", for error messages
    line: int = 0  # insert: the 1-based line the new text goes before (0 = top)


@dataclass
class ApplyReport:
    applied: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.applied)


# -- parsing ------------------------------------------------------------------

def parse_edits(text: str, max_chars: int = MAX_ANSWER_CHARS) -> list[Edit]:
    """All edits in a model's answer, in order; raises EditError with the reason."""
    if not isinstance(text, str):
        raise EditError(f"the answer is not text ({type(text).__name__})")
    if len(text) > max_chars:
        raise EditError(f"the answer is too large: {len(text)} characters (limit {max_chars}); "
                        "send only the edits")
    if "\x00" in text:
        raise EditError("the answer contains NUL bytes (binary content)")
    lines = text.splitlines()
    edits, used = _parse_blocks(lines)
    rest = [ln if i not in used else "" for i, ln in enumerate(lines)]
    edits += _parse_diffs(rest)
    if not edits:
        raise EditError("no edits found: write SEARCH/REPLACE blocks (a file path line, then "
                        "<<<<<<< SEARCH, the exact old lines, =======, the new lines, "
                        ">>>>>>> REPLACE) or a unified diff")
    return edits


def _clean_path(line: str) -> str | None:
    s = line.strip().strip("*`'\"").rstrip(":").strip().strip("*`'\"")
    for prefix in ("File:", "file:", "Path:", "path:", "#"):
        if s.startswith(prefix):
            s = s[len(prefix):].strip().strip("*`'\"")
    if not s or len(s) > 255 or any(c.isspace() for c in s) or _FENCE.match(s):
        return None
    if s.startswith(("<<<", "===", ">>>")):
        return None
    return s


def _parse_blocks(lines: list[str]) -> tuple[list[Edit], set[int]]:
    edits: list[Edit] = []
    used: set[int] = set()
    last_path: str | None = None
    last_end = -1
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if _DIV.match(line) or _UPD.match(line):
            raise EditError(f"line {i + 1}: stray {line.strip()[:20]!r} outside a "
                            "SEARCH/REPLACE block (a half block?)")
        if not _HEAD.match(line):
            i += 1
            continue
        num = len(edits) + 1
        path = None
        j = i - 1
        while j > last_end and (not lines[j].strip() or _FENCE.match(lines[j])):
            j -= 1
        if j > last_end:
            path = _clean_path(lines[j])
        elif last_path and all(not lines[k].strip() or _FENCE.match(lines[k])
                               for k in range(last_end + 1, i)):
            path = last_path  # consecutive blocks for the same file
        if path is None:
            raise EditError(f"block {num} (line {i + 1}): no file path on the line before "
                            "<<<<<<< SEARCH")
        div = upd = None
        k = i + 1
        while k < n:
            if _HEAD.match(lines[k]):
                raise EditError(f"block {num} ({path}): a second <<<<<<< SEARCH at line {k + 1} "
                                "before its =======")
            if div is None and _DIV.match(lines[k]):
                div = k
            elif div is not None and _DIV.match(lines[k]):
                raise EditError(f"block {num} ({path}): a second ======= at line {k + 1}")
            elif _UPD.match(lines[k]):
                if div is None:
                    raise EditError(f"block {num} ({path}): >>>>>>> REPLACE at line {k + 1} "
                                    "without =======")
                upd = k
                break
            k += 1
        if div is None:
            raise EditError(f"block {num} ({path}): <<<<<<< SEARCH at line {i + 1} has no "
                            "======= (half block)")
        if upd is None:
            raise EditError(f"block {num} ({path}): no >>>>>>> REPLACE after ======= at line "
                            f"{div + 1} (half block)")
        search = _join(lines[i + 1:div])
        replace = _join(lines[div + 1:upd])
        kind = "create" if not search.strip() else "replace"
        edits.append(Edit(path, search, replace, kind, f"block {num}"))
        used.update(range(j if j > last_end else i, upd + 1))
        last_path, last_end = path, upd
        i = upd + 1
    return edits, used


def _join(lines: list[str]) -> str:
    return "".join(ln + "\n" for ln in lines)


def _diff_path(header: str) -> str | None:
    p = header[4:].split("\t")[0].strip()
    if p == "/dev/null":
        return None
    return p[2:] if p.startswith(("a/", "b/")) else p


def _parse_diffs(lines: list[str]) -> list[Edit]:
    edits: list[Edit] = []
    i, n = 0, len(lines)
    while i < n:
        if lines[i].startswith(("rename from ", "copy from ")):
            raise EditError(f"line {i + 1}: renames and copies are not supported; create the new "
                            "file and delete the old one")
        if not (lines[i].startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ ")):
            if _HUNK.match(lines[i]):
                raise EditError(f"line {i + 1}: a diff hunk without ---/+++ file headers")
            i += 1
            continue
        old, new = _diff_path(lines[i]), _diff_path(lines[i + 1])
        path = new or old
        if path is None:
            raise EditError(f"line {i + 1}: a diff from /dev/null to /dev/null")
        i += 2
        hunks = 0
        while i < n and (m := _HUNK.match(lines[i])):
            hunks += 1
            i += 1
            minus: list[str] = []
            plus: list[str] = []
            while i < n and not _HUNK.match(lines[i]) and not _FENCE.match(lines[i]) and not (
                    lines[i].startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ ")):
                ln = lines[i]
                if ln.startswith("diff --git "):
                    break
                if ln.startswith("\\"):
                    i += 1
                    continue
                tag, body = (ln[:1], ln[1:]) if ln else (" ", "")
                if tag == " ":
                    minus.append(body)
                    plus.append(body)
                elif tag == "-":
                    minus.append(body)
                elif tag == "+":
                    plus.append(body)
                else:
                    break
                i += 1
            where = f"diff hunk {hunks} of {path}"
            if old is None:
                edits.append(Edit(path, "", _join(plus), "create", where))
            elif new is None:
                edits.append(Edit(path, _join(minus), "", "delete", where))
            elif not minus:
                edits.append(Edit(path, "", _join(plus), "insert", where,
                                  line=int(m.group(1))))
            else:
                edits.append(Edit(path, _join(minus), _join(plus), "replace", where))
        if hunks == 0:
            raise EditError(f"diff for {path}: file headers without any @@ hunk")
    return edits


# -- applying -----------------------------------------------------------------

def check_path(root: Path, path: str) -> Path:
    """The file ``path`` names inside ``root``; EditError if it escapes or touches .git."""
    if not path or "\x00" in path:
        raise EditError(f"invalid path {path!r}")
    if path.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:", path):
        raise EditError(f"path {path!r} is absolute; use a path relative to the agent's root")
    parts = [p for p in re.split(r"[\\/]+", path) if p not in ("", ".")]
    if not parts or ".." in parts:
        raise EditError(f"path {path!r} escapes the agent's directory")
    if any(p.lower() == ".git" for p in parts):
        raise EditError(f"path {path!r} is inside .git")
    root = root.resolve()
    target = root.joinpath(*parts)
    real = target.resolve()
    if real != root and root not in real.parents:
        raise EditError(f"path {path!r} leads outside the agent's directory (a symlink?)")
    return target


def _find(hay: list[str], needle: list[str]) -> list[int]:
    n = len(needle)
    return [i for i in range(len(hay) - n + 1) if hay[i:i + n] == needle]


def _locate(file_lines: list[str], search: str) -> tuple[list[int], int]:
    """Start indices where the search lines match, and the window length."""
    wanted = search.splitlines()
    plain = [ln.rstrip("\r\n") for ln in file_lines]
    trimmed = wanted
    while trimmed and not trimmed[0].strip():
        trimmed = trimmed[1:]
    while trimmed and not trimmed[-1].strip():
        trimmed = trimmed[:-1]
    for candidate in (wanted, trimmed):
        if not candidate:
            continue
        for norm in (lambda s: s, str.rstrip):
            hits = _find([norm(x) for x in plain], [norm(x) for x in candidate])
            if hits:
                return hits, len(candidate)
    return [], len(wanted)


def _near_miss(file_lines: list[str], search: str) -> str:
    first = next((ln for ln in search.splitlines() if ln.strip()), "")
    close = difflib.get_close_matches(first.strip(), [ln.strip() for ln in file_lines], n=1,
                                      cutoff=0.6)
    if not close:
        return ""
    idx = next(i for i, ln in enumerate(file_lines) if ln.strip() == close[0])
    snippet = "".join(file_lines[idx:idx + min(8, max(3, len(search.splitlines())))])
    return f"; the closest text starts at line {idx + 1}:\n{snippet}"


def _check_text(edit: Edit) -> None:
    if _BINARY.search(edit.replace):
        raise EditError("the new text contains control characters (binary content)")
    if len(edit.replace.encode()) > MAX_FILE_BYTES:
        raise EditError(f"the new text is larger than {MAX_FILE_BYTES} bytes")


def apply_edit(root: Path, edit: Edit) -> str:
    """Apply one edit under ``root``; returns a one-line description or raises EditError."""
    target = check_path(root, edit.path)
    _check_text(edit)
    exists = target.is_file()
    if target.exists() and not exists:
        raise EditError(f"{edit.path} is a directory, not a file")
    if edit.kind == "create":
        if exists and target.stat().st_size > 0:
            raise EditError(f"{edit.path} already exists; an empty SEARCH only creates new files "
                            "(quote the lines to change in SEARCH instead)")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(edit.replace)
        return f"created {edit.path}"
    if not exists:
        raise EditError(f"{edit.path} does not exist (to create it, leave SEARCH empty)")
    try:
        text = target.read_text()
    except UnicodeDecodeError:
        raise EditError(f"{edit.path} is not UTF-8 text and cannot be edited") from None
    lines = text.splitlines(keepends=True)
    if edit.kind == "delete":
        target.unlink()
        return f"deleted {edit.path}"
    if edit.kind == "insert":
        at = min(max(edit.line, 1) - 1 if edit.line else 0, len(lines))
        new = "".join(lines[:at]) + edit.replace + "".join(lines[at:])
    else:
        hits, size = _locate(lines, edit.search)
        if not hits:
            raise EditError(f"SEARCH text not found in {edit.path}" + _near_miss(lines, edit.search))
        if len(hits) > 1:
            where = ", ".join(str(h + 1) for h in hits[:6])
            raise EditError(f"SEARCH text matches {len(hits)} places in {edit.path} (lines "
                            f"{where}); include more surrounding lines to make it unique")
        start = hits[0]
        end = start + size
        replace = edit.replace
        if end == len(lines) and lines and not lines[-1].endswith("\n") and replace.endswith("\n"):
            replace = replace[:-1]  # keep the file's missing final newline
        new = "".join(lines[:start]) + replace + "".join(lines[end:])
    if len(new.encode()) > MAX_FILE_BYTES:
        raise EditError(f"{edit.path} would grow to {len(new.encode())} bytes "
                        f"(limit {MAX_FILE_BYTES})")
    target.write_text(new)
    return f"edited {edit.path}"


def apply_edits(root: Path, edits: list[Edit]) -> ApplyReport:
    """Apply edits in order; every failure is reported with its block, none is skipped."""
    report = ApplyReport()
    for e in edits:
        try:
            report.applied.append(f"{e.where}: {apply_edit(Path(root), e)}")
        except EditError as exc:
            report.errors.append(f"{e.where} ({e.path}): {exc}")
        except OSError as exc:  # e.g. a path component that is a file
            report.errors.append(f"{e.where} ({e.path}): cannot write: {exc.strerror or exc}")
    return report
