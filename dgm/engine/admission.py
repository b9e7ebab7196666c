"""Noise-aware admission and best-agent claims.

* ``keep_better`` keeps a child unless it is *confidently* worse than the seed:
  the upper end of the paired per-task interval of (child − seed) is below 0.
  With fewer than two shared tasks it falls back to the fixed margin.
* A child that might become the best (its score is within ``confirm_margin``
  of the best so far, or above it) is re-evaluated with ``confirm_seeds``
  extra meta-train seeds (run seed + 1, + 2, ...) on the stages it ran, and
  so is the seed agent, once, on the same stages. Only then is it a candidate
  for "best": the claimed best agent is the confirmed agent with the highest
  mean over its seeds, and its gain over the seed is reported as a t interval
  over seeds, each seed pairing the two agents' means on the same tasks.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from dgm.archive import searchlog
from dgm.stats import Interval


@dataclass(frozen=True)
class ConfirmTask:
    agent: str
    suite: str  # the suite's name (as recorded)
    stage: int
    locator: str
    seed: int


@dataclass
class Claim:
    agent: str
    mean: float
    seeds: int
    gain: Interval | None  # over the seed agent, paired by meta-train seed
    seed_sd: float | None = None  # the seed agent's sd over meta-train seeds

    def line(self, seed_agent: str) -> str:
        gain = "n/a" if self.gain is None else str(self.gain)
        out = (f"best agent {self.agent} (confirmed on {self.seeds} meta-train seeds): mean "
               f"{self.mean:.4f}; gain over seed {seed_agent}: {gain}")
        if self.seed_sd is not None and self.gain is not None:
            ratio = self.gain.mean / self.seed_sd if self.seed_sd > 0 else float("inf")
            out += f"; seed's meta-train sd {self.seed_sd:.4f} (gain = {ratio:.1f} sd)"
        return out


def keep_better(archive, agent: str, seed_agent: str, *, margin: float,
                confidence: float) -> str | None:
    """Why ``agent`` is rejected under keep_better (None: kept)."""
    iv = searchlog.gain_over(archive, agent, seed_agent, confidence)
    if iv is not None and iv.n >= 2:
        if iv.hi < 0:
            return (f"confidently worse than the seed {seed_agent}: paired gain {iv} "
                    f"({confidence:.0%} interval below 0)")
        return None
    score = archive.agent(agent).score or 0.0
    seed_score = archive.agent(seed_agent).score or 0.0
    if score < seed_score - margin:
        return f"score {score:.3f} below the seed's {seed_score:.3f} minus margin {margin}"
    return None


class Confirmer:
    """Decides which agents get extra seeds, lists their tasks, and names the best claim."""

    def __init__(self, archive, plan, run_seed: int, n_seeds: int, margin: float,
                 confidence: float):
        self.a, self.plan, self.run_seed = archive, plan, run_seed
        self.n, self.margin, self.confidence = n_seeds, margin, confidence
        self.locators = {(p.suite, p.stage): p.locator or p.suite for p in plan}
        self.pending: dict[tuple, int] = {}  # (agent, suite, stage, seed) of a confirmation in flight

    def seeds(self) -> list[int]:
        return [self.run_seed + k for k in range(1, self.n + 1)]

    def might_be_best(self, agent: str, best_score: float | None) -> bool:
        score = self.a.agent(agent).score
        return (self.n > 0 and score is not None and score > 0
                and (best_score is None or score >= best_score - self.margin))

    def tasks(self, agent: str, stages_of: str | None = None) -> list[ConfirmTask]:
        """Confirmation tasks ``agent`` still lacks, on the stages ``stages_of`` ran."""
        stages = self.a.query("SELECT DISTINCT suite, stage FROM evaluations WHERE agent=? "
                              "ORDER BY suite, stage", [stages_of or agent])
        done = searchlog.confirmed_seeds(self.a, agent)
        return [ConfirmTask(agent, suite, stage, self.locators.get((suite, stage), suite), seed)
                for seed in self.seeds() for suite, stage in stages
                if (suite, stage, seed) not in done]

    def claim(self, seed_agent: str) -> Claim | None:
        """The confirmed agent with the highest mean over seeds (the seed itself when no
        child beats it), with its gain over the seed."""
        need = self.n + 1
        best = None
        for (aid,) in self.a.query("SELECT DISTINCT agent FROM confirmations"):
            if self.a.agent(aid).status != "admitted":
                continue
            m = searchlog.confirmed_mean(self.a, aid, self.run_seed)
            if m is None or m[1] < need:
                continue
            if best is None or m[0] > best[1]:
                best = (aid, m[0], m[1])
        if best is None:
            return None
        gain = (searchlog.seed_gain(self.a, best[0], seed_agent, self.run_seed, self.confidence)
                if best[0] != seed_agent else None)
        seed_means = [sum(v.values()) / len(v) for v in
                      searchlog.per_seed_means(self.a, seed_agent, self.run_seed).values() if v]
        sd = statistics.stdev(seed_means) if len(seed_means) >= 2 else None
        return Claim(best[0], best[1], best[2], gain, sd)
