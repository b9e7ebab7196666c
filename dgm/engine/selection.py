"""Parent selection strategies: one small class each, deterministic under a seed.

``select(candidates, k, rng) -> list of ids``. Candidates are admitted agents
with a score (``dgm.engine.population.Member``). Strategies with closed-form
probabilities expose ``probabilities(candidates)`` so they can be tested exactly.
"""

from __future__ import annotations

import math
import random
import statistics
from typing import TYPE_CHECKING, Sequence

from dgm.errors import ConfigError
from dgm.engine.population import Member

if TYPE_CHECKING:  # qd imports this module
    from dgm.engine.qd import QDSelection


def sigmoid(x: float) -> float:
    if x < -60:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


class Strategy:
    name = "abstract"

    def probabilities(self, cands: Sequence[Member]) -> dict[str, float]:
        raise NotImplementedError

    def select(self, cands: Sequence[Member], k: int, rng: random.Random) -> list[str]:
        if not cands:
            raise ValueError("no admitted agent to select a parent from")
        probs = self.probabilities(cands)
        ids = [c.id for c in cands]
        weights = [probs[i] for i in ids]
        if sum(weights) <= 0:  # every weight underflowed: fall back to uniform
            weights = [1.0] * len(ids)
        return rng.choices(ids, weights=weights, k=k)  # with replacement, as DGM


def _normalise(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    if total <= 0:
        return {k: 1.0 / len(weights) for k in weights}
    return {k: v / total for k, v in weights.items()}


def _score(c: Member) -> float:
    """A candidate's score: candidates always have one (``Population.candidates``)."""
    if c.score is None:
        raise TypeError(f"agent {c.id} has no score; only scored agents can be selected")
    return c.score


def _children(c: Member, count_failed: bool) -> int:
    return c.admitted_children + (c.failed_children if count_failed else 0)


class DGMSelection(Strategy):
    """DGM's score_child_prop with DGM-H's 2026 centring: sigmoid(λ(α − α₀)) / (1 + n).

    α₀ is the mean of the archive's top-k scores (k = 3), so the sigmoid's
    steep part sits where the best agents are whatever the score's scale; n
    counts a parent's children, failed ones included unless configured off.
    """

    name = "dgm"

    def __init__(self, lam: float = 10.0, top_k: int = 3, count_failed: bool = True):
        self.lam, self.top_k, self.count_failed = lam, top_k, count_failed

    def centre(self, cands: Sequence[Member]) -> float:
        top = sorted((_score(c) for c in cands), reverse=True)[:self.top_k]
        return sum(top) / len(top)

    def probabilities(self, cands: Sequence[Member]) -> dict[str, float]:
        a0 = self.centre(cands)
        return _normalise({c.id: sigmoid(self.lam * (_score(c) - a0)) / (1 + _children(c, self.count_failed))
                           for c in cands})


class DGM2025Selection(DGMSelection):
    """DGM 2025's score_child_prop: a fixed centre α₀ = 0.5, admitted children only."""

    name = "dgm2025"

    def __init__(self, lam: float = 10.0, alpha0: float = 0.5, count_failed: bool = False):
        super().__init__(lam, count_failed=count_failed)
        self.alpha0 = alpha0

    def centre(self, cands: Sequence[Member]) -> float:
        return self.alpha0


class ScoreSelection(DGM2025Selection):
    """DGM's score_prop: the sigmoid of the score alone (fixed centre 0.5)."""

    name = "score"

    def probabilities(self, cands: Sequence[Member]) -> dict[str, float]:
        return _normalise({c.id: sigmoid(self.lam * (_score(c) - self.alpha0)) for c in cands})


class RandomSelection(Strategy):
    name = "random"

    def probabilities(self, cands: Sequence[Member]) -> dict[str, float]:
        return {c.id: 1.0 / len(cands) for c in cands}


class GreedySelection(Strategy):
    """Hill climbing: always the best agent(s), the top k distinct (earliest on ties)."""

    name = "greedy"

    def probabilities(self, cands: Sequence[Member]) -> dict[str, float]:
        best = max(cands, key=lambda c: (c.score, -int(c.id)))
        return {c.id: float(c.id == best.id) for c in cands}

    def select(self, cands: Sequence[Member], k: int, rng: random.Random) -> list[str]:
        if not cands:
            raise ValueError("no admitted agent to select a parent from")
        ranked = sorted(cands, key=lambda c: (-_score(c), int(c.id)))
        return [ranked[i % len(ranked)].id for i in range(k)]


class WeightedSelection(Strategy):
    """ShinkaEvolve's weighted: sigmoid(λ(α − median)/MAD) × 1/(1 + admitted children)."""

    name = "weighted"

    def __init__(self, lam: float = 10.0):
        self.lam = lam

    def probabilities(self, cands: Sequence[Member]) -> dict[str, float]:
        scores = [_score(c) for c in cands]
        med = statistics.median(scores)
        mad = statistics.median(abs(s - med) for s in scores) or 1e-6
        return _normalise({c.id: sigmoid(self.lam * (_score(c) - med) / mad) / (1 + c.admitted_children)
                           for c in cands})


class HGMSelection(Strategy):
    """Huxley-Gödel Machine: Thompson sampling on each clade's pooled per-task results.

    Each candidate draws from Beta(1 + passes, 1 + fails) of its clade; the
    highest draw wins. As in HGM, only agents whose clade has a positive mean
    are eligible (all are, when none is).
    """

    name = "hgm"

    def _eligible(self, cands: Sequence[Member]) -> list[Member]:
        ok = [c for c in cands if c.clade_n and c.clade_sum > 0]
        return ok or list(cands)

    def select(self, cands: Sequence[Member], k: int, rng: random.Random) -> list[str]:
        if not cands:
            raise ValueError("no admitted agent to select a parent from")
        pool = self._eligible(cands)
        out = []
        for _ in range(k):
            draws = [(rng.betavariate(1 + c.clade_pass, 1 + c.clade_n - c.clade_pass), c.id)
                     for c in pool]
            out.append(max(draws)[1])
        return out

    def probabilities(self, cands: Sequence[Member], samples: int = 4000,
                      seed: int = 0) -> dict[str, float]:
        """Monte-Carlo estimate of each candidate's chance to be chosen."""
        rng = random.Random(seed)
        counts = {c.id: 0 for c in cands}
        for pick in self.select(cands, samples, rng):
            counts[pick] += 1
        return {k: v / samples for k, v in counts.items()}


def _qd() -> type[QDSelection]:
    from dgm.engine.qd import QDSelection
    return QDSelection


STRATEGIES: dict[str, type[Strategy] | None] = {
    cls.name: cls for cls in (DGMSelection, DGM2025Selection, ScoreSelection, RandomSelection,
                              GreedySelection, WeightedSelection, HGMSelection)}
STRATEGIES["qd"] = None  # built lazily (dgm.engine.qd)


def _strategy_class(name: str) -> type[Strategy]:
    cls = STRATEGIES[name]
    return _qd() if cls is None else cls


def make_strategy(name: str, search=None) -> Strategy:
    """The strategy ``name``, with its knobs from ``search`` (a SearchConfig) when given."""
    if name not in STRATEGIES:
        raise ConfigError(f"unknown selection strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    if search is None:
        return _strategy_class(name)()
    if name == "dgm":
        return DGMSelection(search.dgm_lambda, search.dgm_top_k, search.count_failed_children)
    if name in ("dgm2025", "score"):
        rule = DGM2025Selection if name == "dgm2025" else ScoreSelection
        return rule(search.dgm_lambda)  # the 2025 rule, as it was
    if name == "qd":
        return _qd()(bins=search.qd_bins, depth=search.qd_group_depth, compute=search.qd_compute,
                     novelty_weight=search.novelty_weight, k=search.novelty_k)
    return _strategy_class(name)()
