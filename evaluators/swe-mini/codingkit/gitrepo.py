"""Deterministic git repositories built from plain snapshot files.

Task repositories are stored in our tree as plain files (no nested ``.git``).
At run time they become a one-commit git repository whose hash depends only on
the files: author, committer, dates and message are fixed, file modes are
normalised to 0644, and no user or system git configuration is read. So the
``base_commit`` written in a task's ``task.yaml`` can be checked, and the
Dockerfile of the SWE-bench layout reproduces the same hash.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping

# Everything that makes the commit hash reproducible; the Dockerfiles use the same values.
IDENTITY = {
    "GIT_AUTHOR_NAME": "dgm",
    "GIT_AUTHOR_EMAIL": "dgm@localhost",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "dgm",
    "GIT_COMMITTER_EMAIL": "dgm@localhost",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00+00:00",
}
COMMIT_MESSAGE = "base"
# Build debris that never belongs to a snapshot, whoever ran what in it.
IGNORED_NAMES = {"__pycache__", ".pytest_cache", ".git", ".mypy_cache"}
IGNORED_SUFFIXES = (".pyc", ".pyo")
# Written to .git/info/exclude so that a diff of a worked-on tree leaves them out too.
EXCLUDES = "__pycache__/\n*.py[co]\n.pytest_cache/\n.mypy_cache/\n"


class GitError(RuntimeError):
    """A git command we ran on our own data failed."""


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment that shields git from the user's and the system's config."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        **IDENTITY,
    }
    env.update(extra or {})
    return env


def git(args: list[str], cwd: Path, stdin: bytes | None = None) -> str:
    """Run git on trusted data; raise GitError with its stderr on failure."""
    proc = subprocess.run(
        ["git", "-c", "core.autocrlf=false", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, env=git_env(), input=stdin, capture_output=True, timeout=120,
    )
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)} in {cwd}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode("utf-8", "replace")


def snapshot_files(src: Path) -> dict[str, bytes]:
    """The files of a snapshot directory, by POSIX relative path, debris left out."""
    files: dict[str, bytes] = {}
    for root, dirs, names in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_NAMES)
        for name in sorted(names):
            if name.endswith(IGNORED_SUFFIXES):
                continue
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                raise GitError(f"{path}: snapshots hold regular files only")
            files[path.relative_to(src).as_posix()] = path.read_bytes()
    if not files:
        raise GitError(f"{src}: empty snapshot")
    return files


def write_files(dest: Path, files: Mapping[str, bytes]) -> None:
    for rel, data in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o644)


def make_repo(files: Mapping[str, bytes] | Path, dest: Path) -> str:
    """Create ``dest`` as a one-commit repository of ``files``; return the commit hash.

    ``dest`` must not exist or be empty. The same files always give the same hash.
    """
    if isinstance(files, Path):
        files = snapshot_files(files)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise GitError(f"{dest} is not empty")
    write_files(dest, files)
    return commit_tree(dest)


def commit_tree(dest: Path) -> str:
    """Make the files in ``dest`` one commit with the fixed identity; return its hash."""
    git(["init", "-q", "--template=", "-b", "main", "."], dest)
    (dest / ".git" / "info").mkdir(exist_ok=True)
    (dest / ".git" / "info" / "exclude").write_text(EXCLUDES)
    git(["add", "-A", "."], dest)
    git(["commit", "-q", "--no-verify", "-m", COMMIT_MESSAGE], dest)
    return git(["rev-parse", "HEAD"], dest).strip()


def copy_git_dir(repo: Path, dest: Path) -> None:
    """Keep a private copy of ``repo``'s git directory (the pristine base for diffs)."""
    shutil.copytree(repo / ".git", dest, symlinks=True)
