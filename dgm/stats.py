"""Paired intervals for score differences (no SciPy: Student's t by a series)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Sequence


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile: exact for df 1 and 2, a Cornish-Fisher series beyond (error < 4e-3
    at df 3, smaller as df grows)."""
    if df <= 0:
        return math.inf
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    z = statistics.NormalDist().inv_cdf(p)
    g1 = (z ** 3 + z) / 4
    g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96
    g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384
    g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160
    return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4


@dataclass(frozen=True)
class Interval:
    mean: float
    lo: float
    hi: float
    n: int
    se: float

    def __str__(self) -> str:
        return f"{self.mean:+.4f} [{self.lo:+.4f}, {self.hi:+.4f}] (n={self.n})"


def paired_interval(diffs: Sequence[float], confidence: float = 0.95) -> Interval | None:
    """Mean of paired differences with its two-sided t interval; None without pairs."""
    n = len(diffs)
    if n == 0:
        return None
    mean = statistics.fmean(diffs)
    if n == 1:
        return Interval(mean, -math.inf, math.inf, 1, math.inf)
    se = statistics.stdev(diffs) / math.sqrt(n)
    half = t_quantile(0.5 + confidence / 2, n - 1) * se
    return Interval(mean, mean - half, mean + half, n, se)


def paired(a: dict[str, float], b: dict[str, float]) -> list[float]:
    """a − b on the keys both have, in key order."""
    return [a[k] - b[k] for k in sorted(a.keys() & b.keys())]
