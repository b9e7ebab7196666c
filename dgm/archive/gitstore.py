"""Git plumbing for the archive: one bare repository, one commit per agent.

Everything goes through git's plumbing with a private temporary index, so no
shared work tree or index is ever touched and several threads can add agents
at once. A child's diff is applied with ``git apply --cached`` against its
parent's tree in that private index: the same checks as ``git apply`` in a
worktree, without writing the files out (see docs/architecture.md).
"""

from __future__ import annotations

import os
import posixpath
import stat
import subprocess
import tempfile
from pathlib import Path

from dgm.archive.catfile import CHUNK, OBJECT_ID, CatFile, CatFileDied, hashes_to_its_id, read_loose
from dgm.errors import InternalError, UnsafeTree

REF_PREFIX = "refs/dgm/agents/"
# Build outputs never belong to an agent's code.
EXCLUDES = "__pycache__/\n*.pyc\n.pytest_cache/\n*.egg-info/\n"


def _link_escapes(name: str, target: str) -> bool:
    """Whether a symlink at ``name`` pointing at ``target`` leads outside the tree."""
    if target.startswith("/"):
        return True
    return posixpath.normpath(posixpath.join(posixpath.dirname(name), target)).split("/")[0] == ".."


def _tree_entries(data: bytes, prefix: bytes, oid_len: int,
                  commit: str) -> list[tuple[bytes, bytes, str]]:
    """(path, mode, object id) of each entry of a raw tree object, names checked."""
    out, i, end = [], 0, len(data)
    while i < end:
        sp = data.find(b" ", i)
        nul = data.find(b"\0", sp + 1) if sp >= 0 else -1
        if nul < 0 or nul + 1 + oid_len > end:
            raise UnsafeTree(f"commit {commit}: corrupt tree object under {os.fsdecode(prefix)!r}")
        name = data[sp + 1:nul]
        if not name or name in (b".", b"..") or b"/" in name:
            raise UnsafeTree(f"commit {commit}: unsafe path {os.fsdecode(prefix + name)!r}")
        out.append((prefix + name, data[i:sp], data[nul + 1:nul + 1 + oid_len].hex()))
        i = nul + 1 + oid_len
    return out


def _mkdir(path: bytes, commit: str) -> None:
    """Create a directory; one already there must be a real directory, not a link to one."""
    try:
        os.mkdir(path)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise UnsafeTree(f"commit {commit}: {os.fsdecode(path)!r} exists and is not a "
                             "directory; materialise into a new or empty directory") from None


def _write_file(path: bytes, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        view, done = memoryview(data), 0
        while done < len(view):
            done += os.write(fd, view[done:])
    finally:
        os.close(fd)


def _check_links(root: bytes, links: list[bytes], commit: str) -> None:
    """Remove and refuse links that leave ``root`` once resolved on the written tree.

    Each link's own text was checked before it was written; only a chain
    (``a -> .``, ``b -> a/..``) can still lead out, so the check is the
    filesystem's own resolution.
    """
    if not links:
        return
    top = os.path.realpath(root)
    bad = []
    for p in links:
        real = os.path.realpath(p)
        if real != top and not real.startswith(top + b"/"):
            bad.append(p)
            os.unlink(p)
    if bad:
        names = ", ".join(repr(os.fsdecode(p[len(root) + 1:])) for p in bad)
        raise UnsafeTree(f"commit {commit}: {names}: link out of the agent")


class GitError(InternalError):
    """A git command failed; ``stderr`` holds git's own words."""

    def __init__(self, args: list[str], stderr: str):
        super().__init__(f"git {' '.join(args)}: {stderr.strip()}")
        self.stderr = stderr.strip()
        self.command = args[0] if args else ""  # "apply": the patch may be at fault


class GitStore:
    """A bare repository holding every agent as a commit."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._excludes = self.path / "info" / "dgm-excludes"
        self._objects = CatFile(self.path)
        self._objects_dir = str(self.path / "objects")

    def close(self) -> None:
        """Stop the object reader (a later read starts a new one)."""
        self._objects.close()

    def read_objects(self, names: list[str]) -> list[tuple[str, str, bytes] | None]:
        """(id, type, content) of each named object, None for a missing one.

        An object id of a loose object is read directly; every other name goes
        to the store's cat-file reader, all in one exchange (no process each).
        Every object is checked against its id; a damaged one raises GitError.
        """
        out: list[tuple[str, str, bytes] | None] = [
            read_loose(self._objects_dir, n) if OBJECT_ID.fullmatch(n) else None for n in names]
        ask = [i for i, got in enumerate(out) if got is None]
        if ask:
            try:
                answers = self._objects.read([names[i] for i in ask])
            except CatFileDied as exc:
                raise GitError(["cat-file", "--batch"], str(exc)) from None
            for i, got in zip(ask, answers):
                if got is not None and not hashes_to_its_id(got):
                    raise GitError(["cat-file", names[i]], f"fatal: object {got[0]} in {self.path} "
                                   "is damaged: its content does not match its id")
                out[i] = got
        return out

    def _root_tree(self, commit: str) -> tuple[str, str, bytes] | None:
        """The commit's tree object: from the commit's own first line when it is an id."""
        if OBJECT_ID.fullmatch(commit):
            got = self.read_objects([commit])[0]
            if got is not None and got[1] == "commit" and got[2].startswith(b"tree "):
                tree = got[2][5:got[2].find(b"\n")].decode("ascii", "replace")
                if OBJECT_ID.fullmatch(tree):
                    return self.read_objects([tree])[0]
        return self.read_objects([f"{commit}^{{tree}}"])[0]  # tags, trees, other revisions

    # -- low level -----------------------------------------------------------
    def git(self, *args: str, input: bytes | None = None, env: dict | None = None,
            work_tree: Path | None = None, check: bool = True) -> bytes:
        cmd = ["git", f"--git-dir={self.path}"]
        if work_tree is not None:
            cmd.append(f"--work-tree={work_tree}")
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
        proc = subprocess.run([*cmd, *args], input=input, capture_output=True, env=full_env)
        if check and proc.returncode != 0:
            raise GitError(list(args), proc.stderr.decode("utf-8", "replace"))
        return proc.stdout

    @classmethod
    def init(cls, path: Path) -> "GitStore":
        subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True, capture_output=True)
        store = cls(path)
        for key, value in (("user.name", "dgm"), ("user.email", "dgm@localhost"),
                           ("gc.auto", "0"), ("core.autocrlf", "false")):
            store.git("config", key, value)
        store._excludes.parent.mkdir(parents=True, exist_ok=True)
        store._excludes.write_text(EXCLUDES)
        return store

    def is_repo(self) -> bool:
        return (self.path / "HEAD").is_file() and (self.path / "objects").is_dir()

    # -- writing -------------------------------------------------------------
    def commit_directory(self, directory: Path, message: str) -> tuple[str, str]:
        """Commit a directory's files as a root commit; returns (commit, tree)."""
        with tempfile.TemporaryDirectory(prefix="dgm-idx-") as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            self.git("-c", f"core.excludesFile={self._excludes}", "add", "-A", ".",
                     env=env, work_tree=Path(directory))
            tree = self.git("write-tree", env=env).decode().strip()
        commit = self.git("commit-tree", tree, "-m", message).decode().strip()
        return commit, tree

    def apply_diff(self, parent_commit: str, diff: str) -> str:
        """Apply ``diff`` to the parent's tree; returns the new tree id.

        Raises GitError with git's reason when the diff does not apply.
        """
        with tempfile.TemporaryDirectory(prefix="dgm-idx-") as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            self.git("read-tree", parent_commit, env=env)
            if not diff.endswith("\n"):  # git calls a last line without its newline corrupt
                diff += "\n"
            self.git("apply", "--cached", "--whitespace=nowarn", "-", input=diff.encode(), env=env)
            return self.git("write-tree", env=env).decode().strip()

    def commit_tree(self, tree: str, parent: str | None, message: str) -> str:
        args = ["commit-tree", tree, "-m", message]
        if parent:
            args[2:2] = ["-p", parent]
        return self.git(*args).decode().strip()

    def set_ref(self, agent_id: str, commit: str) -> None:
        """Point refs/dgm/agents/<id> at ``commit``.

        Written as git writes a loose ref (``<name>.lock``, then rename), in
        Python: a subprocess per ref would dominate the loop's own overhead.
        Only the archive's single writer calls this.
        """
        if len(commit) != 40 or any(c not in "0123456789abcdef" for c in commit):
            raise ValueError(f"not a commit id: {commit!r}")
        path = self.path / (REF_PREFIX + agent_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = path.with_name(path.name + ".lock")
        with open(lock, "w") as f:
            f.write(commit + "\n")
        os.replace(lock, path)

    # -- reading -------------------------------------------------------------
    def refs(self) -> dict[str, str]:
        """agent id -> commit for every ``refs/dgm/agents/*`` ref."""
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)", REF_PREFIX).decode()
        refs = {}
        for line in out.splitlines():
            name, sha = line.split()
            refs[name[len(REF_PREFIX):]] = sha
        return refs

    def commit_parents(self, commits: list[str]) -> dict[str, list[str]]:
        """commit -> its git parents, for many commits in one call."""
        if not commits:
            return {}
        out = self.git("rev-list", "--no-walk=unsorted", "--parents", "--stdin",
                       input="\n".join(commits).encode()).decode()
        result = {}
        for line in out.splitlines():
            parts = line.split()
            result[parts[0]] = parts[1:]
        return result

    def existing_commits(self, shas: list[str]) -> set[str]:
        """The subset of ``shas`` that name commits in the repository (one git call)."""
        if not shas:
            return set()
        out = self.git("cat-file", "--batch-check=%(objectname) %(objecttype)",
                       input="\n".join(shas).encode()).decode()
        return {line.split()[0] for line in out.splitlines() if line.endswith(" commit")}

    def has_commit(self, sha: str) -> bool:
        out = self.git("cat-file", "-t", sha, check=False)
        return out.strip() == b"commit"

    def tree_of(self, commit: str) -> str:
        return self.git("rev-parse", f"{commit}^{{tree}}").decode().strip()

    def materialize(self, commit: str, dest: Path) -> Path:
        """Write the commit's files into ``dest``: flat in depth, no process per call.

        The tree is read level by level through ``read_objects`` (loose objects
        directly, the rest from the store's long-lived ``git cat-file
        --batch``): starting a git process cost more than all the rest for a
        40-file agent (docs/benchmarks/archive.md). Safety: a name that is
        empty, ``.`` or ``..``, or holds a ``/``, is refused; a symlink must
        resolve inside ``dest`` (its text is checked before it is written, and
        every link is resolved on the written tree, so a chain of links cannot
        lead out either); files are opened with ``O_NOFOLLOW`` and existing
        directories must be real ones, so nothing already in ``dest`` is
        written through; executable bits are kept.
        """
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        root = os.fsencode(dest)
        got = self._root_tree(commit)
        if got is None or got[1] != "tree":
            raise GitError(["cat-file", commit], f"fatal: not a commit in {self.path}: {commit!r}")
        oid_len = len(got[0]) // 2  # 20 bytes for SHA-1, 32 for SHA-256
        todo = _tree_entries(got[2], b"", oid_len, commit)
        links: list[bytes] = []
        done = 0
        while done < len(todo):  # todo grows as trees are read
            chunk = todo[done:done + CHUNK]
            done += len(chunk)
            wanted = [e for e in chunk if e[1] != b"160000"]
            objects = iter(self.read_objects([e[2] for e in wanted]))
            for rel, mode, oid in chunk:
                target = root + b"/" + rel
                if mode == b"160000":  # a gitlink: an empty directory, as git archive writes
                    _mkdir(target, commit)
                    continue
                obj = next(objects)
                if obj is None:
                    raise GitError(["cat-file", oid], f"fatal: object {oid} of {commit} is missing")
                kind, data = obj[1], obj[2]
                if mode == b"40000" and kind == "tree":
                    _mkdir(target, commit)
                    todo.extend(_tree_entries(data, rel + b"/", oid_len, commit))
                elif mode in (b"100644", b"100755", b"100664") and kind == "blob":
                    _write_file(target, data, 0o755 if mode == b"100755" else 0o644)
                elif mode == b"120000" and kind == "blob":
                    if _link_escapes(os.fsdecode(rel), os.fsdecode(data)):
                        raise UnsafeTree(f"commit {commit}: {os.fsdecode(rel)!r} is a link out of "
                                         "the agent")
                    os.symlink(data, target)
                    links.append(target)
                else:
                    raise UnsafeTree(f"commit {commit}: {os.fsdecode(rel)!r} is not a plain file, "
                                     f"directory or link (mode {mode.decode()}, {kind})")
        _check_links(root, links, commit)
        return dest

    def diff(self, old: str | None, new: str) -> str:
        if old is None:  # a seed: its whole tree as additions
            empty = self.git("hash-object", "-t", "tree", "--stdin", input=b"").decode().strip()
            old = empty
        return self.git("diff", "--binary", "--no-color", old, new).decode("utf-8", "replace")

    def files(self, commit: str) -> list[str]:
        return self.git("ls-tree", "-r", "--name-only", commit).decode().splitlines()

    def read_file(self, commit: str, path: str) -> bytes:
        return self.git("show", f"{commit}:{path}")
