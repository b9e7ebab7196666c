"""Crossover: a three-way git merge of two archive agents' changes since their common ancestor.

The child is the parent plus everything the donor changed since the two
lineages split (``git merge-tree --write-tree`` against their merge base: a
real merge, so edits to different lines of the same file combine). A merge
with conflicts, or one that adds nothing to the parent, is not a child. The
donor becomes the child's second parent (a 'crossover' edge in the archive).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..gitstore import GitError

DONORS = 8  # the best admitted agents outside the parent's lineage that may be chosen
TRIES = 3


@dataclass
class Merge:
    donor: str
    base: str | None  # the common ancestor's agent id
    tree: str
    diff: str


def merge(archive, parent: str, donor: str) -> Merge | None:
    """Merge ``donor``'s changes into ``parent``; None on conflict or when nothing changes."""
    git = archive.git
    p, d = archive.agent(parent).commit_sha, archive.agent(donor).commit_sha
    try:
        base = git.git("merge-base", p, d).decode().strip()
    except GitError:
        return None  # unrelated histories (two seeds): nothing to merge against
    if base in (p, d):  # one contains the other: a fast-forward, not a crossover
        return None
    out = git.git("merge-tree", "--write-tree", "--no-messages", p, d, check=False)
    lines = out.decode().split("\n")
    tree = lines[0].strip()
    if not tree or len(lines) > 1 and any(ln.strip() for ln in lines[1:]):
        return None  # conflicted files are listed after the tree
    if tree == git.tree_of(p):
        return None
    diff = git.git("diff", "--binary", "--no-color", p, tree).decode("utf-8", "replace")
    base_id = archive.query("SELECT id FROM agents WHERE commit_sha=? ORDER BY seq LIMIT 1", [base])
    return Merge(donor, base_id[0][0] if base_id else None, tree, diff)


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


def crossover(archive, parent: str, rng: random.Random) -> Merge | None:
    for donor in donors(archive, parent, rng)[:TRIES]:
        m = merge(archive, parent, donor)
        if m is not None:
            return m
    return None
