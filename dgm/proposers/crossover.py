"""Crossover: a three-way merge of two archive agents' changes since their common ancestor.

The child is the parent plus everything the donor changed since the two
lineages split (their git merge base). Files only the donor changed are
taken whole; files both changed are merged by ``git merge-file`` (git's own
line-level three-way merge), and, where the agent declares a search space,
its parameter file is first merged parameter by parameter (two edits to
adjacent lines of one config dict are a conflict for a line merge, not for
a parameter merge: each side changed a different value). A conflict, or a
merge that adds nothing to the parent, is not a child. The donor becomes the
child's second parent (a 'crossover' edge in the archive).
"""

from __future__ import annotations

import ast
import random
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dgm.archive.gitstore import GitError
from dgm.proposers.searchspace import Space, SpaceError, constant, locate
from dgm.proposers.textdiff import tree_diff

DONORS = 8  # the best admitted agents outside the parent's lineage that may be chosen
TRIES = 3


@dataclass
class Merge:
    donor: str
    base: str | None  # the common ancestor's agent id
    diff: str


def _read(git, commit: str, path: str) -> bytes | None:
    try:
        return git.read_file(commit, path)
    except GitError:
        return None


def merge_file(base: str, ours: str, theirs: str) -> str | None:
    """git merge-file's three-way merge of one text; None on conflict."""
    with tempfile.TemporaryDirectory(prefix="dgm-merge-") as tmp:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            (Path(tmp) / name).write_text(text)
            paths.append(str(Path(tmp) / name))
        r = subprocess.run(["git", "merge-file", "-p", *paths], capture_output=True)
    return r.stdout.decode() if r.returncode == 0 else None


def merge_params(space: Space, path: str, base: str, ours: str, theirs: str) -> str | None:
    """Merge a parameter file value by value, when both sides changed only parameter values."""
    params = [p for p in space.params if p.file == path]
    try:
        trees = [ast.parse(t) for t in (base, ours, theirs)]
        vals = [{p.name: constant(locate(t, p.path)) for p in params} for t in trees]
        for side, tree in ((1, trees[1]), (2, trees[2])):  # nothing but values may differ
            rewritten = space.write({path: base}, vals[side]).get(path, base)
            if ast.dump(ast.parse(rewritten)) != ast.dump(tree):
                return None
    except (SyntaxError, ValueError, SpaceError):
        return None
    b, o, t = vals
    merged = dict(o)
    for name in b:
        if t[name] != b[name]:
            if o[name] != b[name] and o[name] != t[name]:
                return None  # both changed the same parameter differently
            merged[name] = t[name]
    return space.write({path: ours}, merged).get(path, ours)


def merge(archive, parent: str, donor: str, space: Space | None = None) -> Merge | None:
    """Merge ``donor``'s changes into ``parent``; None on conflict or when nothing changes."""
    git = archive.git
    p, d = archive.agent(parent).commit_sha, archive.agent(donor).commit_sha
    try:
        base = git.git("merge-base", p, d).decode().strip()
    except GitError:
        return None  # unrelated histories (two seeds): nothing to merge against
    if base in (p, d):  # one contains the other: a fast-forward, not a crossover
        return None
    names = lambda a, b: set(git.git("diff", "--name-only", "-z", a, b).decode().split("\0")) - {""}  # noqa: E731
    ours_changed = names(base, p)
    param_files = {prm.file for prm in space.params} if space is not None else set()
    changes: dict[str, tuple[str | None, str | None]] = {}
    for path in sorted(names(base, d)):
        raw = [_read(git, c, path) for c in (base, p, d)]
        try:
            b, o, t = (None if x is None else x.decode() for x in raw)
        except UnicodeDecodeError:
            return None  # binary: no text merge
        if path not in ours_changed:
            new = t
        elif o == t:
            continue
        elif b is None or o is None or t is None:
            return None  # added or deleted on one side, changed on the other
        else:
            new = merge_params(space, path, b, o, t) if space is not None and path in param_files else None
            new = new if new is not None else merge_file(b, o, t)
            if new is None:
                return None
        if new != o:
            changes[path] = (o, new)
    if not changes:
        return None
    base_id = archive.query("SELECT id FROM agents WHERE commit_sha=? ORDER BY seq LIMIT 1", [base])
    return Merge(donor, base_id[0][0] if base_id else None, tree_diff(changes))


def donors(archive, parent: str, rng: random.Random) -> list[str]:
    """Candidate second parents: the best admitted agents not in the parent's line."""
    ancestors = set(archive.ancestors(parent))
    rows = archive.query("SELECT id FROM agents WHERE status='admitted' AND score IS NOT NULL "
                         "AND id != ? ORDER BY score DESC, seq LIMIT ?", [parent, DONORS * 4])
    out = []
    for (aid,) in rows:
        if aid in ancestors or parent in archive.ancestors(aid):
            continue
        out.append(aid)
        if len(out) == DONORS:
            break
    rng.shuffle(out)
    return out


def crossover(archive, parent: str, rng: random.Random, space: Space | None = None) -> Merge | None:
    for donor in donors(archive, parent, rng)[:TRIES]:
        m = merge(archive, parent, donor, space)
        if m is not None:
            return m
    return None
