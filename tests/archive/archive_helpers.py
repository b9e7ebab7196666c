"""Helpers for the archive tests: seed files, tree I/O, diffs made by real git.

Diffs are made by real git in a scratch repository (``make_diff``), never by the
code under test, so the archive's apply path is checked against an independent
producer of unified diffs.
"""

from __future__ import annotations

import difflib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

AGENT_TOML = 'name = "toy"\ndomain = "coding"\n[commands]\nsolve = ["python", "main.py"]\n'
SEED_FILES = {
    "agent.toml": AGENT_TOML,
    "main.py": "import tools.util as u\n\n\ndef main():\n    return u.add(1, 2)\n",
    "tools/util.py": "def add(a, b):\n    return a + b\n",
    "README.md": "toy agent\n",
}
_GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@t", "GIT_CONFIG_NOSYSTEM": "1"}


@dataclass
class TaskResult:
    """The shape record_evaluation reads (task_id, score, resolved, seconds, log)."""

    task_id: str
    score: float
    resolved: bool
    seconds: float = 0.5
    log: str = ""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def read_tree(root: Path) -> dict[str, str]:
    """Every regular file under ``root`` as {relative posix path: text}."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            out[p.relative_to(root).as_posix()] = p.read_text()
    return out


class DiffMaker:
    """Produces `git diff` output between two file dicts, using its own scratch repo."""

    def __init__(self, root: Path):
        self.root = root
        self.n = 0

    def __call__(self, old: dict[str, str], new: dict[str, str]) -> str:
        self.n += 1
        repo = self.root / f"d{self.n}"
        repo.mkdir(parents=True)
        env = {**os.environ, **_GIT_ENV}

        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=repo, env=env, check=True,
                                  capture_output=True, text=True).stdout

        git("init", "-q")
        write_tree(repo, old)
        git("add", "-A")
        git("commit", "-q", "--allow-empty", "-m", "old")
        for rel in old:
            if rel not in new:
                (repo / rel).unlink()
        write_tree(repo, new)
        git("add", "-A")
        return git("diff", "--cached", "--no-color", "--no-renames")


def edit(files: dict[str, str], rel: str, text: str) -> dict[str, str]:
    return {**files, rel: text}


def unified_diff(old: dict[str, str], new: dict[str, str]) -> str:
    """A traditional (non-git) unified diff made by difflib: a second, independent producer.

    Every file text must end with a newline and be non-empty.
    """
    out = []
    for rel in sorted(old.keys() | new.keys()):
        a, b = old.get(rel), new.get(rel)
        if a == b:
            continue
        out.extend(difflib.unified_diff(
            (a or "").splitlines(keepends=True), (b or "").splitlines(keepends=True),
            fromfile="/dev/null" if a is None else f"a/{rel}",
            tofile="/dev/null" if b is None else f"b/{rel}"))
    return "".join(out)
