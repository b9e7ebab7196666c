"""A scratch copy of an agent whose changes are read as a unified git diff.

``WorkCopy.create(src, dest)`` copies the agent (without any ``.git``) and
commits it as the base in a **private** git directory beside it
(``<dest>.base.git``); ``diff()`` returns every change since as a git diff with
``a/`` ``b/`` paths relative to the agent's root.

Why a private git directory: in self-modification the copy is mounted
writable into a sandbox, and git run on the host must never read a
repository the agent could have written (a ``.git/config`` with
``core.fsmonitor`` or a hook would run commands on the host). The agent may
get its own ``.git`` in the copy (``agent_git=True``) for its convenience; our
git never looks at it. Symlinks, submodules and build litter are refused or
excluded, since a child's code must be plain files.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dgm.errors import DgmError

_EXCLUDES = "__pycache__/\n*.pyc\n.pytest_cache/\n.mypy_cache/\n.ruff_cache/\n*.egg-info/\n"
_GIT_ENV = {"GIT_AUTHOR_NAME": "dgm", "GIT_AUTHOR_EMAIL": "dgm@localhost",
            "GIT_COMMITTER_NAME": "dgm", "GIT_COMMITTER_EMAIL": "dgm@localhost",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
            "HOME": "/nonexistent", "PATH": "/usr/bin:/bin", "GIT_TERMINAL_PROMPT": "0"}
# Nothing the work tree holds may make git run a program.
_SAFE = ["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
         "-c", "core.untrackedCache=false", "-c", "core.symlinks=true"]


class WorkCopyError(DgmError):
    pass


def _run(args: list[str], input: bytes | None = None) -> str:
    r = subprocess.run(["git", *_SAFE, *args], input=input, capture_output=True, env=_GIT_ENV,
                       timeout=120)
    if r.returncode != 0:
        cmd = next((a for a in args if not a.startswith("-") and "=" not in a), "")
        raise WorkCopyError(f"git {cmd} failed: {r.stderr.decode('utf-8', 'replace').strip()[-500:]}")
    return r.stdout.decode("utf-8", "replace")


@dataclass
class WorkCopy:
    root: Path
    git_dir: Path  # private: never inside ``root``, never mounted into a sandbox
    base: str

    def git(self, *args: str) -> str:
        return _run([f"--git-dir={self.git_dir}", f"--work-tree={self.root}", *args])

    @classmethod
    def create(cls, src: Path, dest: Path, agent_git: bool = False) -> "WorkCopy":
        dest = Path(dest)
        git_dir = dest.with_name(dest.name + ".base.git")
        for old in (dest, git_dir):
            if old.exists():
                shutil.rmtree(old)
        shutil.copytree(src, dest, symlinks=True,
                        ignore=shutil.ignore_patterns(".git", "__pycache__", "*.pyc",
                                                      ".pytest_cache"))
        _run([f"--git-dir={git_dir}", "init", "-q"])
        (git_dir / "info").mkdir(exist_ok=True)
        (git_dir / "info" / "exclude").write_text(_EXCLUDES)
        copy = cls(dest, git_dir, "")
        copy.git("add", "-A", ".")
        copy.git("commit", "-q", "--allow-empty", "--no-verify", "-m", "base")
        copy.base = copy.git("rev-parse", "HEAD").strip()
        if agent_git:  # the agent's own repository, for `git diff` and friends inside
            _run(["-C", str(dest), "init", "-q", "-b", "main"])
            (dest / ".git" / "info").mkdir(parents=True, exist_ok=True)
            (dest / ".git" / "info" / "exclude").write_text(_EXCLUDES)
            _run(["-C", str(dest), "add", "-A", "."])
            _run(["-C", str(dest), "commit", "-q", "--allow-empty", "--no-verify", "-m", "base"])
        return copy

    def _stage(self) -> None:
        self.git("add", "-A", ".")

    def diff(self) -> str:
        """All changes since the base commit; WorkCopyError for symlinks or nested repos."""
        self._stage()
        kinds = {"120000": "a symlink", "160000": "a nested git repository"}
        for line in self.git("diff", "--cached", "--raw", "--no-renames", self.base).splitlines():
            meta, _, path = line.partition("\t")
            new_mode = meta.split()[1] if len(meta.split()) > 1 else ""
            if new_mode in kinds:
                raise WorkCopyError(f"{path} is {kinds[new_mode]}; an agent's code must be "
                                    "plain files")
        return self.git("diff", "--cached", "--no-color", "--no-renames", "--no-ext-diff",
                        "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/", self.base)

    def changed_files(self) -> list[str]:
        self._stage()
        out = self.git("diff", "--cached", "--name-only", "--no-renames", self.base)
        return [ln for ln in out.splitlines() if ln]
