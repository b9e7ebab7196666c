"""Operator selection that learns: Thompson sampling over per-operator success rates.

A child *succeeds* when it beat its parent beyond noise (its paired per-task
gain over the parent exceeds ``z`` standard errors; dgm/searchlog.py records
one outcome per finished child). Each operator's rate gets a Beta(1 + wins,
1 + losses) posterior; each proposal draws from every applicable operator's
posterior and takes the largest draw. The counts live in the archive's
``operator_outcomes`` table, so a resumed run continues with what it learnt.
"""

from __future__ import annotations

import random
from typing import Iterable


def operator_stats(archive) -> dict[str, tuple[int, int]]:
    """{operator: (successes, trials)} over every finished child in the archive."""
    if archive is None:
        return {}
    return {op: (int(s or 0), int(n)) for op, s, n in archive.query(
        "SELECT operator, SUM(success), COUNT(*) FROM operator_outcomes GROUP BY operator")}


def thompson(ops: Iterable[str], stats: dict[str, tuple[int, int]], rng: random.Random) -> str:
    """The operator with the largest draw from its Beta(1 + wins, 1 + losses) posterior."""
    best, best_draw = None, -1.0
    for op in ops:
        s, n = stats.get(op, (0, 0))
        draw = rng.betavariate(1 + s, 1 + n - s)
        if draw > best_draw:
            best, best_draw = op, draw
    if best is None:
        raise ValueError("no operator to choose from")
    return best
