"""Operator selection that learns: Thompson sampling over per-operator success rates.

A child *succeeds* when it beat its parent beyond noise (its paired per-task
gain over the parent exceeds ``z`` standard errors; dgm/archive/searchlog.py records
one outcome per finished child). Each operator's rate gets a Beta(1 + wins,
1 + losses) posterior; each proposal draws from every applicable operator's
posterior and takes the largest draw. The counts live in the archive's
``operator_outcomes`` table, so a resumed run continues with what it learnt.
The same posterior, per declared parameter, picks which parameters a
numeric/choice/multi move changes and which one a spend move grows (``parameter_stats``,
``thompson_top``).
"""

from __future__ import annotations

import json
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


def parameter_stats(archive) -> dict[str, tuple[int, int]]:
    """{parameter: (successes, trials)} over finished children whose move changed it."""
    if archive is None:
        return {}
    out: dict[str, list[int]] = {}
    for params, success in archive.query(
            "SELECT m.params, o.success FROM operator_outcomes o JOIN proposal_meta m "
            "ON m.agent = o.agent WHERE m.operator IN ('numeric', 'choice', 'multi', 'spend')"):
        for name in json.loads(params or "{}").get("changes", {}):
            s = out.setdefault(name, [0, 0])
            s[0] += int(success)
            s[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def thompson_top(names: Iterable[str], stats: dict[str, tuple[int, int]], k: int,
                 rng: random.Random) -> list[str]:
    """The ``k`` names with the largest posterior draws (which parameters a move changes)."""
    draws = sorted(((rng.betavariate(1 + stats.get(n, (0, 0))[0],
                                     1 + stats.get(n, (0, 0))[1] - stats.get(n, (0, 0))[0]), n)
                    for n in names), reverse=True)
    return [n for _, n in draws[:k]]
