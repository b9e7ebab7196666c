"""An agent's code as a self-contained git bundle, for machines without the archive.

Workers on other nodes never see the archive's path: the driver packs the
agent's ref (its commit and its lineage, which git delta-compresses well) into
a bundle, and the worker unbundles it into its process's private bare
repository and ``git archive``s exactly the commit it was told to evaluate.
Objects are checked against their ids on arrival and the commit must be among
them (or among those an earlier bundle brought: same id, same bytes), so a
worker evaluates the bytes the archive holds or nothing at all.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from dgm.archive.gitstore import REF_PREFIX, GitError, GitStore


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


class _Unbundled:
    """This process's private bare repository of every bundle unpacked so far.

    A worker evaluates an agent stage after stage; the second stage then costs
    one ``git archive``, as on the driver. Removed when the process exits.
    """

    _lock = threading.Lock()
    _repo: Path | None = None
    _have: set[str] = set()

    @classmethod
    def repo(cls) -> Path:
        if cls._repo is None or not (cls._repo / "objects").is_dir():
            tmp = Path(tempfile.mkdtemp(prefix="dgm-bundles-"))
            atexit.register(shutil.rmtree, tmp, True)
            _git("init", "-q", "--bare", "--template=", str(tmp / "repo.git"))  # no hooks: faster
            _git("config", "gc.auto", "0", git_dir=tmp / "repo.git")  # objects have no refs here
            cls._repo, cls._have = tmp / "repo.git", set()
        return cls._repo

    @classmethod
    def add(cls, bundle: bytes, commit: str) -> Path:
        with cls._lock:
            repo = cls.repo()
            if commit not in cls._have:
                path = repo / f"incoming-{os.getpid()}.bundle"
                path.write_bytes(bundle)
                try:
                    # index-pack checks every object against its id and the pack's
                    # checksum: a truncated or altered bundle fails here.
                    _git("bundle", "unbundle", str(path), git_dir=repo)
                finally:
                    path.unlink(missing_ok=True)
                if subprocess.run(["git", f"--git-dir={repo}", "cat-file", "-e", f"{commit}^{{commit}}"],
                                  capture_output=True).returncode != 0:
                    raise BundleError(["cat-file", commit], f"the bundle does not contain commit {commit}")
                cls._have.add(commit)
            return repo


def materialize_from_bundle(bundle: bytes, commit: str, dest: Path | str) -> Path:
    """Write the files of ``commit`` (held in ``bundle``) into ``dest``; returns ``dest``."""
    return GitStore(_Unbundled.add(bundle, commit)).materialize(commit, Path(dest))
