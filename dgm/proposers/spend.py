"""The ``spend`` operator: grow a parameter that buys compute when the parent left budget unused.

A suite that meters compute records, per stage, what the agent used beside its budget
(``stage.json``: ``{"compute": {"train_flops": u, "train_flops_budget": b, ...}}``). A search
space marks the parameters whose cost grows in proportion to their value with
``spends = "<key>"`` (the metalearner's ``train_steps`` spend ``train_flops``). When the parent
used less than ``HEADROOM`` of a budget, the move multiplies one such parameter by
``min(MAX_FACTOR, TARGET / used)``: a step towards the budget that stays inside it when cost is
proportional, and inside the declared range and constraints always.

This is the one move informed by the parent's measurements rather than drawn blind; the
bandit still decides how often it is tried, from whether its children beat their parents.
The shares are read from the archive's record of each stage (what the suite's scorer stored
after its own budget check), not from the agent's files.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any, Callable

from dgm.proposers.searchspace import Param, Space

HEADROOM = 0.5  # below this share of a budget used, spending more is worth a child
TARGET = 0.9  # the share a proportional cost would reach after the move
MAX_FACTOR = 2.0  # one move at most doubles a parameter: a failed step stays cheap


def budget_shares(archive: Any, agent_id: str) -> dict[str, float]:
    """{compute key: the largest share of its budget the agent used in any recorded stage}."""
    if archive is None:
        return {}
    shares: dict[str, float] = {}
    for name, text in archive.artifacts(agent_id).items():
        if not name.endswith("/stage.json"):
            continue
        try:
            compute = json.loads(text).get("compute") or {}
        except (ValueError, AttributeError):
            continue
        if not isinstance(compute, dict):
            continue
        for key, budget in compute.items():
            if not isinstance(key, str) or not key.endswith("_budget"):
                continue
            base = key[: -len("_budget")]
            used = compute.get(base)
            if not (isinstance(used, (int, float)) and _number(used) and _number(budget)):
                continue
            if budget > 0 and math.isfinite(used) and used >= 0:
                shares[base] = max(shares.get(base, 0.0), used / budget)
    return shares


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def spend_move(space: Space, values: dict[str, Any], shares: dict[str, float], rng: random.Random,
               order: Callable[[list[str]], list[str]] | None = None,
               ) -> tuple[dict[str, list], dict[str, Any], dict[str, float]] | None:
    """(changes, new values, the shares that allowed it) for one spending move, or None.

    ``order`` ranks the candidate parameters (the bandit's per-parameter draws); without it
    they are tried in a random order."""
    active = space.active(values)
    by = space.by_name()
    names = [p.name for p in space.params if p.spends and active[p.name]
             and 0 < shares.get(p.spends, 1.0) < HEADROOM]
    if order is not None:
        names = order(names)
    else:
        rng.shuffle(names)
    for p in (by[n] for n in names):
        assert p.spends is not None
        share = shares[p.spends]
        new_value = _grown(p, values[p.name], min(MAX_FACTOR, TARGET / share))
        if new_value is None:
            continue
        new = dict(values, **{p.name: new_value})
        if space.violation(new) is None:
            return {p.name: [values[p.name], new_value]}, new, {p.spends: round(share, 4)}
    return None


def _grown(p: Param, v: Any, factor: float) -> Any:
    """``v`` times ``factor``, on the parameter's grid and under its ``high``; None if stuck."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        return None
    target = min(v * factor, p.high if p.high is not None else math.inf)
    if p.type == "int":
        m = p.multiple_of or 1
        grown = int(target // m) * m
        return grown if grown > v else None
    grown_f = float(f"{target:.4g}")
    return grown_f if grown_f > v else None
