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
# names a commit that is not in the archive. Deleting either is fine.
_LINK_MODE = re.compile(r"^(?:new file mode|new mode|index \S+) (120000|160000)\s*$", re.M)


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
    if m := _LINK_MODE.search(diff):
        kind = "symlinks" if m.group(1) == "120000" else "submodules (gitlinks)"
        return f"{kind} are not allowed in an agent's code"
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
