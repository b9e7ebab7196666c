"""A local mirror of the repositories an instance file names (no network at evaluation).

For ``owner/name`` the mirror directory may hold, first match wins:

    owner__name/          a clone (SWE-bench's own naming), with its .git
    owner__name.git/      a bare clone
    owner/name/ or owner/name.git/
    owner__name.bundle    a git bundle (``git bundle create x.bundle --all``)

A bundle is cloned once into ``<cache>/bundles/`` (bare). A testbed is the
tree at ``base_commit`` (``git archive``), committed once with dgm's fixed
identity: the agent gets no history, no remote, no later commit that holds
the fix. The commit hash therefore differs from ``base_commit``; the log
names both.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import threading
from pathlib import Path

from dgm.errors import ConfigError

from . import gitrepo

_SHA = re.compile(r"^[0-9a-f]{7,40}$")


class MirrorError(ConfigError):
    """A repository or commit the mirror does not have (one clear line)."""


class Mirror:
    def __init__(self, root: Path, cache: Path):
        if not root.is_dir():
            raise MirrorError(f"repository mirror {root} is not a directory")
        self.root, self.cache = root, cache
        self._lock = threading.Lock()
        self._resolved: dict[str, Path] = {}

    def git_dir(self, repo: str) -> Path:
        """The git directory holding ``repo`` (a bundle is cloned into the cache first)."""
        with self._lock:
            if repo not in self._resolved:
                self._resolved[repo] = self._find(repo)
            return self._resolved[repo]

    def _find(self, repo: str) -> Path:
        owner, name = repo.split("/", 1)
        flat = f"{owner}__{name}"
        for cand in (self.root / flat, self.root / f"{flat}.git", self.root / owner / name,
                     self.root / owner / f"{name}.git"):
            if (cand / ".git").exists():
                return cand / ".git"
            if (cand / "HEAD").is_file() and (cand / "objects").is_dir():
                return cand
        bundle = self.root / f"{flat}.bundle"
        if bundle.is_file():
            return self._unbundle(bundle)
        raise MirrorError(f"repository {repo} is not in the mirror {self.root} (looked for {flat}/, "
                          f"{flat}.git/, {owner}/{name}/, {flat}.bundle)")

    def _unbundle(self, bundle: Path) -> Path:
        st = bundle.stat()
        key = hashlib.sha256(f"{bundle.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
        dest = self.cache / "bundles" / f"{bundle.stem}-{key}.git"
        if not (dest / "HEAD").is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(".part")
            subprocess.run(["rm", "-rf", str(tmp)], check=True)
            gitrepo.git(["clone", "--bare", "--quiet", str(bundle), str(tmp)], dest.parent)
            tmp.rename(dest)
        return dest

    def testbed(self, repo: str, commit: str, dest: Path) -> str:
        """Write ``repo`` at ``commit`` into ``dest`` as a one-commit repository; its hash."""
        if not _SHA.match(commit):
            raise MirrorError(f"{repo}: base_commit {commit!r} is not a commit hash")
        gd = self.git_dir(repo)
        try:
            gitrepo.git(["--git-dir", str(gd), "cat-file", "-e", f"{commit}^{{commit}}"], gd)
        except gitrepo.GitError:
            raise MirrorError(f"{repo}: commit {commit} is not in the mirror ({gd}); "
                              "fetch the full history") from None
        dest.mkdir(parents=True, exist_ok=True)
        if any(dest.iterdir()):
            raise MirrorError(f"{dest} is not empty")
        archive = subprocess.run(["git", "--git-dir", str(gd), "archive", "--format=tar", commit],
                                 env=gitrepo.git_env(), capture_output=True, timeout=600)
        if archive.returncode != 0:
            raise MirrorError(f"{repo}: git archive {commit} failed: {archive.stderr.decode()[-300:]}")
        subprocess.run(["tar", "-x", "--no-same-owner", "-C", str(dest)], input=archive.stdout,
                       check=True, capture_output=True)
        return gitrepo.commit_tree(dest)
