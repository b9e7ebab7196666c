"""The offline mutation proposer: real code edits without a model, seeded.

Operators (each proposal records its operator and parameters in the archive):

* ``numeric`` / ``choice``: move one parameter. Where the agent declares a
  search space (``search.toml``, searchspace.py) only declared, active
  parameters move, and only to valid points (ranges, constraints); without
  one, any named literal (pyedit.py) or ``# dgm: choice`` variable.
* ``multi``: move two or three declared parameters at once (a coupled move:
  width with heads, rate with batch size).
* ``spend``: grow a parameter the space marks as buying compute (``spends``), when
  the parent's recorded stages used under half of that budget (spend.py).
* ``region``: drop or swap statements between ``# dgm: region`` markers, only
  in files the search space lists as safe for statement edits.
* ``transplant``: re-apply a change that improved another lineage (its diff
  against its own parent) onto this parent: git's cherry-pick, recorded as a
  transplant edge.
* ``crossover``: a three-way merge with another archive agent (crossover.py),
  recorded as a second parent.

Which operator is tried, and which declared parameters a move changes, come
from Thompson sampling over their success in the archive (bandit.py), or
from fixed prior weights and uniform draws.
Same seed, same parent, same archive → same proposal.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from dgm.proposers.bandit import operator_stats, parameter_stats, thompson, thompson_top
from dgm.proposers.base import Proposal, ProposalRejected, ProposeContext, Proposer
from dgm.proposers.crossover import crossover
from dgm.proposers.pyedit import (REGION_BEGIN, alternatives, choice_sites, mutate_choice, mutate_number,
                     mutate_region, numeric_sites)
from dgm.proposers.searchspace import AST_LOCK, Space, SpaceError, load_space
from dgm.proposers.spend import budget_shares, spend_move
from dgm.proposers.textdiff import file_diff, tree_diff

# Prior weights of the operators (only those with a site in the code compete); with the
# bandit on they only say which operators are enabled (weight > 0).
WEIGHTS = {"numeric": 0.4, "choice": 0.2, "multi": 0.15, "spend": 0.1, "region": 0.05,
           "transplant": 0.1, "crossover": 0.1}
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
    """How many places in ``text`` the (space-less) operator could change (0: none)."""
    try:
        if op == "numeric":
            return len(numeric_sites(text))
        if op == "choice":
            return len(choice_sites(text, alts))
        return 1 if REGION_BEGIN.search(text) else 0
    except SyntaxError:
        return 0


class MutationProposer(Proposer):
    name = "mutation"

    def __init__(self, weights: dict[str, float] | None = None, bandit: bool = True,
                 crossover: bool = True):
        self.weights = dict(weights) if weights else dict(WEIGHTS)
        if not crossover:
            self.weights["crossover"] = 0.0
        self.bandit = bandit

    def propose(self, ctx: ProposeContext) -> Proposal:
        with AST_LOCK:  # see searchspace.AST_LOCK
            return self._propose(ctx)

    def _pick(self, ops: list[str], ctx: ProposeContext) -> str:
        if self.bandit:
            return thompson(ops, operator_stats(ctx.archive), ctx.rng)
        return ctx.rng.choices(ops, weights=[self.weights[o] for o in ops])[0]

    def _propose(self, ctx: ProposeContext) -> Proposal:
        files = python_files(ctx.parent_dir)
        if not files:
            raise ProposalRejected("the agent has no Python files to mutate")
        try:
            space = load_space(ctx.parent_dir, files)
        except (SpaceError, SyntaxError, ValueError) as exc:
            raise ProposalRejected(f"the agent's search space is unusable: {exc}") from None
        alts: dict[str, list] = {}
        for text in files.values():
            try:
                alts.update(alternatives(text))
            except SyntaxError:
                pass
        ops = [op for op, w in self.weights.items() if w > 0]
        if space is None:
            ops = [op for op in ops if op not in ("multi", "spend")]
        elif not space.statement_edits:
            ops = [op for op in ops if op != "region"]
        for _ in range(MAX_TRIES):
            if not ops:
                break
            op = self._pick(ops, ctx)
            if op in ("transplant", "crossover", "spend"):
                prop = (self._transplant(ctx, space) if op == "transplant" else
                        self._crossover(ctx, space) if op == "crossover" else
                        self._spend(space, files, ctx))
                if prop is not None:
                    return prop
                ops.remove(op)  # depends only on the archive and the parent: retrying cannot help
                continue
            prop = (self._space_move(op, space, files, ctx) if space is not None and op != "region"
                    else self._code_move(op, files, alts, space, ctx))
            if prop is not None:
                prop.meta.setdefault("bandit", self.bandit)
                return prop
        raise ProposalRejected(f"no applicable mutation found in {MAX_TRIES} tries")

    def _space_move(self, op: str, space: Space, files: dict[str, str],
                    ctx: ProposeContext) -> Proposal | None:
        rng = ctx.rng
        try:
            values = space.read(files)
        except SpaceError:  # a computed parameter (NotConstant): no value to move from
            return None
        active = space.active(values)
        numeric = [p.name for p in space.params if active[p.name] and p.type in ("int", "float")]
        discrete = [p.name for p in space.params if active[p.name] and p.type in ("choice", "bool")]
        pool = {"numeric": numeric, "choice": discrete, "multi": numeric + discrete}[op]
        k = 1 if op != "multi" else rng.choice((2, 2, 3))
        if len(pool) < k:
            return None
        names = (thompson_top(pool, parameter_stats(ctx.archive), k, rng) if self.bandit
                 else rng.sample(pool, k))
        new = space.mutate(values, rng, names)
        if new is None:
            return None
        changed = space.write(files, {n: new[n] for n in names})
        if not changed:
            return None
        changes = {n: [values[n], new[n]] for n in names}
        diff = tree_diff({p: (files[p], t) for p, t in changed.items()})
        what = ", ".join(f"{n} {a!r} → {b!r}" for n, (a, b) in changes.items())
        return Proposal(diff=diff, summary=what, meta={"operator": op, "changes": changes})

    def _spend(self, space: Space | None, files: dict[str, str], ctx: ProposeContext) -> Proposal | None:
        if space is None:
            return None
        shares = budget_shares(ctx.archive, ctx.parent_id)
        try:
            values = space.read(files)
        except SpaceError:
            return None
        order = ((lambda names: thompson_top(names, parameter_stats(ctx.archive), len(names), ctx.rng))
                 if self.bandit else None)
        move = spend_move(space, values, shares, ctx.rng, order) if shares else None
        if move is None:
            return None
        changes, _, used = move
        changed = space.write(files, {n: new for n, (_, new) in changes.items()})
        if not changed:
            return None
        diff = tree_diff({p: (files[p], t) for p, t in changed.items()})
        what = ", ".join(f"{n} {a!r} → {b!r}" for n, (a, b) in changes.items())
        used_text = ", ".join(f"{k} {v:.0%} of budget" for k, v in used.items())
        return Proposal(diff=diff, summary=f"{what} (parent used {used_text})",
                        meta={"operator": "spend", "changes": changes, "budget_used": used,
                              "bandit": self.bandit})

    def _code_move(self, op: str, files: dict[str, str], alts: dict[str, list],
                   space: Space | None, ctx: ProposeContext) -> Proposal | None:
        rng = ctx.rng
        allowed = sorted(files) if space is None else [p for p in sorted(files)
                                                       if p in space.statement_edits]
        weights = {p: w for p in allowed if (w := site_count(op, files[p], alts))}
        if not weights:
            return None
        # Files weighted by their sites: every site is equally likely, wherever it is.
        path = rng.choices(list(weights), weights=list(weights.values()))[0]
        text = files[path]
        try:
            result = {"numeric": lambda: mutate_number(text, rng),
                      "choice": lambda: mutate_choice(text, alts, rng),
                      "region": lambda: mutate_region(text, rng)}[op]()
        except SyntaxError:
            return None
        if result is None:
            return None
        new_text, what = result
        try:
            compile(new_text, path, "exec")
        except SyntaxError:
            return None
        if new_text == text:
            return None
        return Proposal(diff=file_diff(path, text, new_text), summary=f"{what} in {path}",
                        meta={"operator": op, "file": path, "edit": what})

    def _crossover(self, ctx: ProposeContext, space: Space | None) -> Proposal | None:
        if ctx.archive is None:
            return None
        m = crossover(ctx.archive, ctx.parent_id, ctx.rng, space)
        if m is None:
            return None
        if space is not None:
            scratch = Path(tempfile.mkdtemp(prefix="crossover-", dir=ctx.work_dir)) / "agent"
            if not _applies_validly(m.diff, ctx.parent_dir, scratch, space):
                return None
        summary = ctx.archive.agent(m.donor).summary or ""
        return Proposal(diff=m.diff, summary=f"crossover with {m.donor} ({summary[:80]})",
                        meta={"operator": "crossover", "second_parent": m.donor, "base": m.base,
                              "bandit": self.bandit})

    def _transplant(self, ctx: ProposeContext, space: Space | None = None) -> Proposal | None:
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
            if diff and (space is None or _valid(space, scratch)):
                return Proposal(diff=diff, summary=f"transplant of {donor} ({summary})",
                                transplant_from=donor,
                                meta={"operator": "transplant", "donor": donor, "bandit": self.bandit})
        return None


def _valid(space: Space, root: Path) -> bool:
    try:
        return space.violation(space.read(python_files(root))) is None
    except (SpaceError, SyntaxError, ValueError):
        return False


def _applies_validly(diff: str, parent_dir: Path, scratch: Path, space: Space) -> bool:
    shutil.copytree(parent_dir, scratch)
    if subprocess.run(["git", "apply", "-"], cwd=scratch, input=diff.encode(),
                      capture_output=True).returncode != 0:
        return False
    return _valid(space, scratch)


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
