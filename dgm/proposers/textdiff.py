"""Unified diffs that ``git apply`` accepts, built from old/new file texts."""

from __future__ import annotations

import difflib

NO_EOL = "\\ No newline at end of file\n"


def file_diff(path: str, old: str | None, new: str | None) -> str:
    """A git-style diff of one file; ``None`` means the file does not exist on that side."""
    a = [] if old is None else old.splitlines(keepends=True)
    b = [] if new is None else new.splitlines(keepends=True)
    header = [f"diff --git a/{path} b/{path}\n"]
    if old is None:
        header.append("new file mode 100644\n")
    if new is None:
        header.append("deleted file mode 100644\n")
    body = []
    for line in difflib.unified_diff(a, b, "/dev/null" if old is None else f"a/{path}",
                                     "/dev/null" if new is None else f"b/{path}", n=3):
        if line.startswith(("---", "+++")):
            body.append(line if line.endswith("\n") else line + "\n")
            continue
        body.append(line)
        if not line.endswith("\n"):
            body[-1] = line + "\n"
            body.append(NO_EOL)
    if not body:
        return ""
    return "".join(header + body)


def tree_diff(changes: dict[str, tuple[str | None, str | None]]) -> str:
    """Concatenate file diffs for {path: (old, new)}, in path order."""
    return "".join(file_diff(p, o, n) for p, (o, n) in sorted(changes.items()))
