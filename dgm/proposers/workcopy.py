"""A git-tracked scratch copy of an agent, whose ``git diff`` is a proposal's diff.

``WorkCopy.create(src, dest)`` copies the agent (without any ``.git``), commits
it as the base, and ``diff()`` returns every change since as a unified git diff
with ``a/`` ``b/`` paths relative to the agent's root: new, deleted and edited
files, never binary. Build litter (``__pycache__``, ``.pytest_cache``, ...) is
excluded so running an agent's tests does not pollute its child.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_EXCLUDES = "__pycache__/\n*.pyc\n.pytest_cache/\n.mypy_cache/\n.ruff_cache/\n*.egg-info/\n"
_GIT_ENV = {"GIT_AUTHOR_NAME": "dgm", "GIT_AUTHOR_EMAIL": "dgm@localhost",
            "GIT_COMMITTER_NAME": "dgm", "GIT_COMMITTER_EMAIL": "dgm@localhost",
            "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent", "PATH": "/usr/bin:/bin"}


class WorkCopyError(Exception):
    pass


def _git(repo: Path, *args: str, input: bytes | None = None) -> str:
    r = subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True,
                       env=_GIT_ENV, timeout=120)
    if r.returncode != 0:
        raise WorkCopyError(f"git {' '.join(args[:2])} failed: "
                            f"{r.stderr.decode('utf-8', 'replace').strip()[-500:]}")
    return r.stdout.decode("utf-8", "replace")


@dataclass
class WorkCopy:
    root: Path
    base: str  # the base commit

    @classmethod
    def create(cls, src: Path, dest: Path) -> "WorkCopy":
        dest = Path(dest)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(src, dest, symlinks=True,
                        ignore=shutil.ignore_patterns(".git", "__pycache__", "*.pyc",
                                                      ".pytest_cache"))
        _git(dest, "init", "-q", "-b", "base")
        (dest / ".git" / "info").mkdir(parents=True, exist_ok=True)
        (dest / ".git" / "info" / "exclude").write_text(_EXCLUDES)
        _git(dest, "add", "-A", ".")
        _git(dest, "commit", "-q", "--allow-empty", "--no-verify", "-m", "base")
        return cls(dest, _git(dest, "rev-parse", "HEAD").strip())

    def diff(self) -> str:
        """All changes since the base commit (staged into a private index first)."""
        _git(self.root, "add", "-A", ".")
        return _git(self.root, "diff", "--cached", "--no-color", "--no-renames", "--no-ext-diff",
                    "--src-prefix=a/", "--dst-prefix=b/", self.base)

    def changed_files(self) -> list[str]:
        _git(self.root, "add", "-A", ".")
        out = _git(self.root, "diff", "--cached", "--name-only", "--no-renames", self.base)
        return [ln for ln in out.splitlines() if ln]
