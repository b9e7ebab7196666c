"""Checks a proposed diff must pass before it is applied to the archive.

Each check returns a reason string (the proposal is then *rejected* with it,
never raised): empty, not a diff, a path escaping the agent's directory, a
path inside ``.git``, binary content, an oversized diff or file.
"""

from __future__ import annotations

import re
from collections import defaultdict

MAX_DIFF_BYTES = 2 * 1024 * 1024
MAX_FILE_BYTES = 512 * 1024

_HEADER = re.compile(r"^diff --git (\S+) (\S+)$")
_PATH_LINE = re.compile(r"^(?:---|\+\+\+) (\S+)")
_RENAME = re.compile(r"^(?:rename|copy) (?:from|to) (.+)$")
# A symlink can point outside the agent (and materialising it then fails); a gitlink
# names a commit that is not in the archive. Deleting either is fine. The mode is
# parsed as git parses it (octal digits, any spelling: 0120000, 120777, ...) and
# judged by its file-type bits, never by matching a string.
_NEW_MODE = re.compile(r"^(?:new file mode|new mode|index [0-9a-fA-F]+\.\.[0-9a-fA-F]+)[ \t]+(\S*)", re.M)
_S_IFMT, _S_IFREG, _S_IFLNK, _S_IFGITLINK = 0o170000, 0o100000, 0o120000, 0o160000


def mode_problem(diff: str) -> str | None:
    """Why a mode the diff gives a file is not a plain file's (None when all are)."""
    for m in _NEW_MODE.finditer(diff):
        text = m.group(1)
        if not text:
            continue  # "index a..b " with trailing blanks and no mode
        digits = re.match(r"[0-7]+", text)
        if not digits or digits.group() != text.rstrip():
            return f"unreadable file mode {text[:20]!r}"
        kind = int(digits.group(), 8) & _S_IFMT
        if kind == _S_IFLNK:
            return "symlinks are not allowed in an agent's code"
        if kind == _S_IFGITLINK:
            return "submodules (gitlinks) are not allowed in an agent's code"
        if kind != _S_IFREG:
            return f"file mode {text} is not a regular file's"
    return None


def _strip_prefix(path: str) -> str | None:
    if path == "/dev/null":
        return None
    if path.startswith(("a/", "b/")):
        return path[2:]
    return path


def _bad_path(path: str) -> str | None:
    if path.startswith("/") or path.startswith("\\"):
        return f"path {path!r} is absolute: it escapes the agent's directory"
    parts = re.split(r"[\\/]+", path)
    if ".." in parts:
        return f"path {path!r} escapes the agent's directory"
    if any(p.lower() == ".git" for p in parts):
        return f"path {path!r} touches .git"
    return None


def touched_paths(diff: str) -> set[str]:
    """Every path a diff names (headers, ---/+++ lines, renames, copies)."""
    paths: set[str] = set()
    for line in diff.splitlines():
        if m := _HEADER.match(line):
            paths.update(p for p in map(_strip_prefix, m.groups()) if p)
        elif m := _PATH_LINE.match(line):
            if (p := _strip_prefix(m.group(1))) is not None:
                paths.add(p)
        elif m := _RENAME.match(line):
            paths.add(m.group(1).strip())
    return paths


def check_diff(diff: str) -> str | None:
    """Return why ``diff`` must be rejected, or None when it may be applied."""
    if not diff or not diff.strip():
        return "empty diff: the proposal changes nothing"
    size = len(diff.encode("utf-8", "replace"))
    if size > MAX_DIFF_BYTES:
        return f"diff too large: {size} bytes (limit {MAX_DIFF_BYTES})"
    if "\x00" in diff or "GIT binary patch" in diff or re.search(r"^Binary files .* differ$", diff, re.M):
        return "binary content is not allowed in an agent's code"
    if reason := mode_problem(diff):
        return reason
    paths = touched_paths(diff)
    if not paths:
        return "not a unified diff: no file headers found"
    for p in sorted(paths):
        if reason := _bad_path(p):
            return reason
    added: dict[str, int] = defaultdict(int)
    current = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            current = _strip_prefix(line[4:].split("\t")[0])
        elif line.startswith("+") and current:
            added[current] += len(line)
    for path, n in added.items():
        if n > MAX_FILE_BYTES:
            return f"file {path!r} too large: {n} bytes added (limit {MAX_FILE_BYTES})"
    return None
