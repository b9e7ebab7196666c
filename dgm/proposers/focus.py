"""Focused context for small models: one file (or one region of it) and the valid paths.

A small local model cannot read a whole codebase: a 2,000-token prompt already
takes ~20 s to process on two cores, and what it writes about files it has not
seen is invented (``path/to/main.py``). So the prompt shows *one* file, chosen in
this order:

1. a file the failure logs name (most cited first);
2. a file that declares the agent's search space (``# dgm: choice``,
   ``# dgm: region-begin``, ``DGM_ALTERNATIVES``);
3. any Python file of the agent;

picked with the job's seeded rng among the candidates of the first non-empty
tier. When the file is over the character budget, a window of whole lines is
shown: around a line the logs cite (``file.py", line N``), else around the first
search-space marker, else at a seeded offset.
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from dgm.proposers.prompting import _text_files, mentioned_files

SEARCH_SPACE = re.compile(r"#\s*dgm:\s*(choice|region-begin)|\bDGM_ALTERNATIVES\b")
FREEZE_BEGIN = re.compile(r"#\s*dgm:\s*freeze-begin")
FREEZE_END = re.compile(r"#\s*dgm:\s*freeze-end")
MAX_ANCHORS = 300  # lines offered as edit anchors (a JSON-schema enum)


@dataclass
class Focus:
    path: str  # relative to the agent's root
    text: str  # the whole file
    start: int  # first shown line (0-based)
    end: int  # one past the last shown line
    why: str  # how it was chosen, for the transcript
    paths: list[str]  # every editable text file of the agent

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @property
    def shown(self) -> str:
        return "\n".join(self.lines[self.start:self.end]) + "\n"

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end >= len(self.lines)

    def anchors(self) -> list[str]:
        """Shown code lines that occur exactly once in the file: each names one place to edit
        (comments, docstrings and frozen regions excluded: editing them changes nothing)."""
        lines = self.lines
        strings = _string_lines(self.text) if self.path.endswith(".py") else set()
        counts: dict[str, int] = {}
        for ln in lines:
            counts[ln] = counts.get(ln, 0) + 1
        out = []
        frozen = False
        for i, ln in enumerate(lines):
            if FREEZE_BEGIN.search(ln):
                frozen = True
            elif FREEZE_END.search(ln):
                frozen = False
            # code lines only: a comment edit changes no behaviour, a frozen region is off limits
            elif (self.start <= i < self.end and not frozen and ln.strip() and i not in strings
                  and not ln.lstrip().startswith("#") and counts[ln] == 1 and ln not in out):
                out.append(ln)
        return out[:MAX_ANCHORS]


def _string_lines(text: str) -> set[int]:
    """0-based lines of a Python file that hold only (part of) a string statement: docstrings."""
    out: set[int] = set()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return out
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and \
                isinstance(node.value.value, str):
            out.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    return out


def _cited_line(path: str, logs: Iterable[str]) -> int | None:
    pat = re.compile(re.escape(path) + r'(?:", line |:)(\d+)')
    for text in logs:
        m = pat.search(text or "")
        if m:
            return int(m.group(1)) - 1
    return None


def choose_focus(root: Path, logs: list[str], rng: random.Random, budget_chars: int) -> Focus | None:
    """The file (and window) to show, or None when the agent has no editable text file."""
    files = {rel: text for rel, text, _ in _text_files(root) if text is not None}
    if not files:
        return None
    paths = sorted(files)
    tiers = [
        ([p for p in mentioned_files(root, logs) if p in files and p != "agent.toml"][:2],
         "named in the failure logs"),
        ([p for p in paths if SEARCH_SPACE.search(files[p])], "declares the search space"),
        ([p for p in paths if p.endswith(".py")], "a Python file of the agent"),
        (paths, "a file of the agent"),
    ]
    for cands, why in tiers:
        if cands:
            path = rng.choice(cands)
            break
    text = files[path]
    lines = text.splitlines()
    start, end = 0, len(lines)
    if len(text) > budget_chars:
        centre = _cited_line(path, logs)
        if centre is None:
            marks = [i for i, ln in enumerate(lines) if SEARCH_SPACE.search(ln)]
            centre = marks[0] if marks else None
        # grow a window of whole lines within the budget
        width = 0
        n = 0
        for ln in lines:  # lines that fit, on average
            width += len(ln) + 1
            if width > budget_chars:
                break
            n += 1
        n = max(1, n)
        if centre is None:
            start = rng.randrange(0, max(1, len(lines) - n + 1))
        else:
            start = max(0, min(centre - n // 3, len(lines) - n))
        end = start + n
        while end > start + 1 and sum(len(x) + 1 for x in lines[start:end]) > budget_chars:
            end -= 1
        why += f"; lines {start + 1}-{end} of {len(lines)} shown"
    return Focus(path, text, start, end, why, paths)
