"""The offline mutation proposer: real code edits without a model, seeded.

Each proposal is one operator applied to the parent's code (see pyedit.py),
or a *transplant*: re-applying a change that improved another lineage (its
diff against its own parent) onto this parent: git's cherry-pick, recorded
as a transplant edge. Same seed, same parent, same archive → same proposal.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from .base import Proposal, ProposalRejected, ProposeContext, Proposer
from .pyedit import (REGION_BEGIN, alternatives, choice_sites, mutate_choice, mutate_number,
                     mutate_region, numeric_sites)
from .textdiff import file_diff, tree_diff

_AST_LOCK = threading.Lock()

# Relative weights of the operators (only those with a site in the code compete).
WEIGHTS = {"number": 0.55, "choice": 0.2, "region": 0.1, "transplant": 0.15}
MAX_TRIES = 12


def python_files(root: Path, pattern: str = "*.py") -> dict[str, str]:
    """Relative path -> text of the agent's (Python) files, skipping caches and binaries."""
    out = {}
    for p in sorted(root.rglob(pattern)):
        rel = p.relative_to(root).as_posix()
        if not p.is_file() or "__pycache__" in rel or rel.startswith("."):
            continue
        try:
            out[rel] = p.read_text()
        except UnicodeDecodeError:
            continue
    return out


def site_count(op: str, text: str, alts: dict[str, list]) -> int:
    """How many places in ``text`` the operator could change (0: none)."""
    try:
        if op == "number":
            return len(numeric_sites(text))
        if op == "choice":
            return len(choice_sites(text, alts))
        return 1 if REGION_BEGIN.search(text) else 0
    except SyntaxError:
        return 0


class MutationProposer(Proposer):
    name = "mutation"

    def __init__(self, weights: dict[str, float] | None = None):
        self.weights = dict(weights or WEIGHTS)

    def propose(self, ctx: ProposeContext) -> Proposal:
        # CPython 3.11's ast module is not thread-safe ("AST constructor recursion depth
        # mismatch" when two threads parse at once), and proposals run in parallel.
        with _AST_LOCK:
            return self._propose(ctx)

    def _propose(self, ctx: ProposeContext) -> Proposal:
        files = python_files(ctx.parent_dir)
        if not files:
            raise ProposalRejected("the agent has no Python files to mutate")
        alts: dict[str, list] = {}
        for text in files.values():
            try:
                alts.update(alternatives(text))
            except SyntaxError:
                pass
        rng = ctx.rng
        for _ in range(MAX_TRIES):
            ops = [op for op, w in self.weights.items() if w > 0]
            op = rng.choices(ops, weights=[self.weights[o] for o in ops])[0]
            if op == "transplant":
                prop = self._transplant(ctx)
                if prop is not None:
                    return prop
                continue
            weights = {p: w for p in sorted(files) if (w := site_count(op, files[p], alts))}
            if not weights:
                continue
            # Files weighted by their sites: every site is equally likely, wherever it is.
            path = rng.choices(list(weights), weights=list(weights.values()))[0]
            text = files[path]
            try:
                result = {"number": lambda: mutate_number(text, rng),
                          "choice": lambda: mutate_choice(text, alts, rng),
                          "region": lambda: mutate_region(text, rng)}[op]()
            except SyntaxError:
                continue
            if result is None:
                continue
            new_text, what = result
            try:
                compile(new_text, path, "exec")
            except SyntaxError:
                continue
            if new_text == text:
                continue
            return Proposal(diff=file_diff(path, text, new_text), summary=f"{what} in {path}",
                            meta={"operator": op})
        raise ProposalRejected(f"no applicable mutation found in {MAX_TRIES} tries")

    def _transplant(self, ctx: ProposeContext) -> Proposal | None:
        """Re-apply an improving change from another lineage, if one applies here."""
        archive = ctx.archive
        if archive is None:
            return None
        lineage = set([ctx.parent_id, *archive.ancestors(ctx.parent_id)])
        donors = []
        for row in archive.query(
                "SELECT c.id, c.summary FROM agents c JOIN agents p ON c.parent = p.id "
                "WHERE c.status='admitted' AND c.score > p.score ORDER BY c.seq"):
            if row[0] not in lineage:
                donors.append(row)
        ctx.rng.shuffle(donors)
        for donor, summary in donors[:5]:
            scratch = Path(tempfile.mkdtemp(prefix="transplant-", dir=ctx.work_dir)) / "agent"
            diff = _rebase(archive.diff(donor), ctx.parent_dir, scratch)
            if diff:
                return Proposal(diff=diff, summary=f"transplant of {donor} ({summary})",
                                transplant_from=donor, meta={"operator": "transplant"})
        return None


def _rebase(diff: str, parent_dir: Path, scratch: Path) -> str | None:
    """Apply a donor's diff to a copy of the parent (fuzzy context, like a cherry-pick
    without conflicts) and return the resulting diff against the parent, or None."""
    shutil.copytree(parent_dir, scratch)
    for context in ("-C3", "-C1", "-C0"):
        if subprocess.run(["git", "apply", context, "-"], cwd=scratch, input=diff.encode(),
                          capture_output=True).returncode == 0:
            break
    else:
        return None
    before, after = python_files(parent_dir, "*"), python_files(scratch, "*")
    changes = {p: (before.get(p), after.get(p)) for p in before.keys() | after.keys()
               if before.get(p) != after.get(p)}
    return tree_diff(changes) or None
