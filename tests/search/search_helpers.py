"""Helpers for the search tests: a real run on the toy suite, in-process (runner API)."""

from __future__ import annotations

import time
from pathlib import Path

from dgm.engine.progress import Reporter
from dgm.proposers.base import Proposal, ProposeContext, Proposer
from dgm.engine.launch import execute, prepare

TOY = Path(__file__).resolve().parents[1] / "loop" / "toy"


def run_toy(archive: Path, children: int, proposer: Proposer | None = None, **overrides):
    over = {"suites": [str(TOY / "suite")], "seed_agent": TOY / "agent", "children": children,
            "sandbox": "unsafe", **overrides}
    p = prepare(archive if (archive / "dgm.db").exists() else None, None, over, archive, unsafe=True)
    if proposer is not None:
        p.proposer = proposer
    return execute(p, Reporter(children))


class Slow(Proposer):
    """A proposer that takes ``seconds`` to think (like a model), then delegates."""

    name = "mutation"

    def __init__(self, inner: Proposer, seconds: float):
        self.inner, self.seconds = inner, seconds

    def propose(self, ctx: ProposeContext) -> Proposal:
        time.sleep(self.seconds)
        return self.inner.propose(ctx)


class Scripted(Proposer):
    """Replaces one line of predict.py per proposal, from a list (then cycles)."""

    name = "mutation"

    def __init__(self, edits: list[tuple[str, str]]):
        self.edits, self.i = edits, 0

    def propose(self, ctx: ProposeContext) -> Proposal:
        from dgm.proposers.textdiff import file_diff
        old, new = self.edits[self.i % len(self.edits)]
        self.i += 1
        code = (ctx.parent_dir / "predict.py").read_text()
        return Proposal(diff=file_diff("predict.py", code, code.replace(old, new)),
                        summary=f"{old} -> {new}", meta={"operator": "scripted"})
