"""Unified diffs as lists of per-file blocks: split, classify, strip, make.

An agent's answer is a ``git diff``. Before grading, every block that touches a
test file is dropped (DGM's ``report.py`` does the same), so editing the hidden
or existing tests can never make a task pass. The in-sandbox grader restores
test files a second time after applying the patch, in case a block slipped
through in a shape this parser does not recognise.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

_HEADER = re.compile(r"^diff --git (?P<a>\S+) (?P<b>\S+)$")
_QUOTED_HEADER = re.compile(r'^diff --git "?(?P<a>.+?)"? "?(?P<b>[ab]/.+?)"?$')
_HUNK = re.compile(r"^@@ -\d+(?:,(?P<ol>\d+))? \+\d+(?:,(?P<nl>\d+))? @@")
_MINUS_PLUS = re.compile(r"^(?:---|\+\+\+) (?P<p>\S+)")

# The in-sandbox graders carry a copy of this rule (they cannot import us);
# tests/coding_suites checks that the copies agree.
TEST_DIR_NAMES = {"test", "tests", "testing"}


def is_test_path(path: str) -> bool:
    """True for test code and pytest plumbing: test dirs, test_*.py, *_test.py, conftest.py."""
    parts = PurePosixPath(path.strip("/")).parts
    if not parts:
        return False
    name = parts[-1]
    if any(p in TEST_DIR_NAMES for p in parts[:-1]):
        return True
    if name in TEST_DIR_NAMES:  # the directory itself, e.g. a symlink named tests
        return True
    return (name == "conftest.py" or (name.startswith("test_") and name.endswith(".py"))
            or name.endswith("_test.py"))


@dataclass(frozen=True)
class FileDiff:
    """One ``diff --git`` block: the old and new path (None for /dev/null) and its text."""

    old: str | None
    new: str | None
    text: str

    @property
    def paths(self) -> list[str]:
        return [p for p in (self.old, self.new) if p]


def _strip_prefix(p: str) -> str | None:
    p = p.strip('"')
    if p == "/dev/null":
        return None
    return p[2:] if p[:2] in ("a/", "b/") else p


def split_diff(text: str) -> tuple[str, list[FileDiff]]:
    """Split a diff into its preamble (anything before the first block) and file blocks.

    Git diffs split on ``diff --git`` lines; plain ``diff -u`` output on ``---/+++``
    pairs. Hunk bodies are skipped by their line counts, so a removed line that
    reads ``-- x`` can never be taken for a header.
    """
    lines = text.splitlines(keepends=True)
    git_style = any(line.startswith("diff --git ") for line in lines)
    starts: list[int] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        hunk = _HUNK.match(line)
        if hunk:
            i = _skip_hunk(lines, i, int(hunk.group("ol") or 1), int(hunk.group("nl") or 1))
            continue
        if git_style:
            if line.startswith("diff --git "):
                starts.append(i)
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            starts.append(i)
        i += 1
    if not starts:
        return text, []
    blocks = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        blocks.append(_block("".join(lines[start:end])))
    return "".join(lines[: starts[0]]), blocks


def _skip_hunk(lines: list[str], i: int, old: int, new: int) -> int:
    """Index of the first line after the hunk whose header is at ``i``."""
    i += 1
    while i < len(lines) and (old > 0 or new > 0):
        tag = lines[i][:1]
        if tag in (" ", "\n", "\r"):
            old, new = old - 1, new - 1
        elif tag == "-":
            old -= 1
        elif tag == "+":
            new -= 1
        elif tag != "\\":
            break  # malformed: let the caller look at this line
        i += 1
    return i


def _block(text: str) -> FileDiff:
    first = text.split("\n", 1)[0]
    old = new = None
    m = _HEADER.match(first) or _QUOTED_HEADER.match(first)
    if m:
        old, new = _strip_prefix(m.group("a")), _strip_prefix(m.group("b"))
    header = text.split("\n@@", 1)[0]
    for line in header.splitlines():
        if line.startswith(("--- ", "+++ ")):
            mp = _MINUS_PLUS.match(line)
            p = _strip_prefix(mp.group("p")) if mp else None
            if line.startswith("--- "):
                old = p
            else:
                new = p
        elif line.startswith(("rename from ", "copy from ")):
            old = line.split(" ", 2)[2]
        elif line.startswith(("rename to ", "copy to ")):
            new = line.split(" ", 2)[2]
        elif line.startswith("new file mode"):
            old = None
        elif line.startswith("deleted file mode"):
            new = None
    return FileDiff(old, new, text)


def strip_test_changes(text: str) -> tuple[str, list[str]]:
    """Drop every block that touches a test path; return (kept diff, dropped paths)."""
    preamble, blocks = split_diff(text)
    kept, dropped = [], []
    for b in blocks:
        if any(is_test_path(p) for p in b.paths):
            dropped.extend(p for p in b.paths if p not in dropped)
        else:
            kept.append(b.text)
    return "".join(kept), dropped


def changed_paths(text: str) -> list[str]:
    out: list[str] = []
    for b in split_diff(text)[1]:
        out.extend(p for p in b.paths if p not in out)
    return out


def file_diff(path: str, old: str | None, new: str | None) -> str:
    """A git-style diff of one text file (None = absent), applicable with ``git apply``."""
    if old == new:
        return ""
    a = (old or "").splitlines(keepends=True)
    b = (new or "").splitlines(keepends=True)
    head = [f"diff --git a/{path} b/{path}\n"]
    if old is None:
        head.append("new file mode 100644\n")
    elif new is None:
        head.append("deleted file mode 100644\n")
    body = []
    for line in difflib.unified_diff(a, b, "/dev/null" if old is None else f"a/{path}",
                                     "/dev/null" if new is None else f"b/{path}", n=3):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        body.append(line)
    return "".join(head + body)
