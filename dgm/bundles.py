"""An agent's code as a self-contained git bundle, for machines without the archive.

Workers on other nodes never see the archive's path: the driver packs the
agent's ref (its commit and its lineage, which git delta-compresses well) into
a bundle, and the worker unbundles it into a private bare repository and
``git archive``s exactly the commit it was told to evaluate. The commit id is
checked on arrival, so a worker evaluates the bytes the archive holds or
nothing at all.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from .gitstore import REF_PREFIX, GitError, GitStore


class BundleError(GitError):
    """A bundle could not be made, or does not hold the expected commit."""


def _git(*args: str, git_dir: Path | None = None, input: bytes | None = None) -> bytes:
    cmd = ["git"] + ([f"--git-dir={git_dir}"] if git_dir is not None else []) + list(args)
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    proc = subprocess.run(cmd, input=input, capture_output=True, env=env)
    if proc.returncode != 0:
        raise BundleError(list(args), proc.stderr.decode("utf-8", "replace"))
    return proc.stdout


def make_bundle(repo: Path | str, commit: str) -> bytes:
    """The bytes of ``git bundle create`` for the agent ref that points at ``commit``.

    git only bundles named refs, so the commit must be an agent's commit
    (``refs/dgm/agents/<id>``), which every committed child is.
    """
    repo = Path(repo)
    refs = _git("for-each-ref", "--format=%(refname)", f"--points-at={commit}", REF_PREFIX,
                git_dir=repo).decode().split()
    if not refs:
        raise BundleError(["bundle", "create"], f"no agent ref in {repo} points at commit {commit}")
    with tempfile.TemporaryDirectory(prefix="dgm-bundle-") as tmp:
        out = Path(tmp) / "agent.bundle"
        _git("bundle", "create", str(out), refs[0], git_dir=repo)
        return out.read_bytes()


def materialize_from_bundle(bundle: bytes, commit: str, dest: Path | str) -> Path:
    """Write the files of ``commit`` (held in ``bundle``) into ``dest``; returns ``dest``."""
    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="dgm-unbundle-") as tmp:
        path = Path(tmp) / "agent.bundle"
        path.write_bytes(bundle)
        repo = Path(tmp) / "repo.git"
        _git("init", "-q", "--bare", str(repo))
        # ``bundle verify`` checks the pack header and that no prerequisite is
        # missing (ours are complete), so a truncated transfer fails here.
        _git("bundle", "verify", str(path), git_dir=repo)
        _git("fetch", "-q", str(path), "+refs/*:refs/*", git_dir=repo)
        kind = subprocess.run(["git", f"--git-dir={repo}", "cat-file", "-t", commit],
                              capture_output=True, text=True).stdout.strip()
        if kind != "commit":
            raise BundleError(["cat-file", "-t", commit], f"the bundle does not contain commit {commit}")
        return GitStore(repo).materialize(commit, dest)
