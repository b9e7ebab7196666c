"""Quality-diversity parent selection: MAP-Elites niches plus a GEA-style novelty bonus.

Each admitted agent has a *behaviour descriptor*: its mean score per task pool
(a task id's first ``depth`` '/'-separated components name its pool) and,
optionally, its compute (log seconds per task). Every dimension is cut into
``bins`` equal bins over the candidates' range; agents falling into the same
cell compete, and only the best of each cell (its *elite*) may be a parent.
Elites are drawn with weight ``1 + w · novelty / max novelty``, where an
elite's novelty is its mean Euclidean distance, over the per-task success
vector, to its ``k`` nearest other candidates (Group-Evolving Agents). So a
lineage that solves different tasks is kept alive even when it scores lower.
"""

from __future__ import annotations

import math
from typing import Sequence

from dgm.engine.population import Member
from dgm.engine.selection import Strategy, _normalise


def pool_of(task: str, depth: int) -> str:
    return "/".join(task.split("/")[:depth])


def descriptor(m: Member, pools: list[str], depth: int, compute: bool) -> tuple[float, ...]:
    sums: dict[str, list[float]] = {}
    for task, score in m.tasks.items():
        sums.setdefault(pool_of(task, depth), []).append(score)
    vec = [sum(sums[p]) / len(sums[p]) if p in sums else 0.0 for p in pools]
    if compute:
        vec.append(math.log10(max(m.seconds, 1e-3)))
    return tuple(vec)


def niches(vectors: dict[str, tuple[float, ...]], bins: int) -> dict[str, tuple[int, ...]]:
    """Each agent's cell: every dimension cut into ``bins`` bins over the observed range."""
    if not vectors:
        return {}
    dims = len(next(iter(vectors.values())))
    lo = [min(v[d] for v in vectors.values()) for d in range(dims)]
    hi = [max(v[d] for v in vectors.values()) for d in range(dims)]
    out = {}
    for aid, v in vectors.items():
        cell = []
        for d in range(dims):
            width = hi[d] - lo[d]
            cell.append(0 if width <= 1e-12 else min(bins - 1, int((v[d] - lo[d]) / width * bins)))
        out[aid] = tuple(cell)
    return out


def novelty(cands: Sequence[Member], k: int) -> dict[str, float]:
    """Mean distance to the k nearest other candidates over the tasks all of them ran."""
    common = set.intersection(*(set(c.tasks) for c in cands)) if cands else set()
    tasks = sorted(common)
    if not tasks or len(cands) < 2:
        return {c.id: 0.0 for c in cands}
    vecs = {c.id: [c.tasks[t] for t in tasks] for c in cands}
    out = {}
    for c in cands:
        dists = sorted(math.dist(vecs[c.id], vecs[o.id]) for o in cands if o.id != c.id)
        near = dists[:k]
        out[c.id] = sum(near) / len(near)
    return out


class QDSelection(Strategy):
    """MAP-Elites over behaviour descriptors, elites weighted by novelty."""

    name = "qd"
    needs_tasks = True

    def __init__(self, bins: int = 3, depth: int = 1, compute: bool = True,
                 novelty_weight: float = 0.5, k: int = 3):
        self.bins, self.depth, self.compute = bins, depth, compute
        self.w, self.k = novelty_weight, k

    def elites(self, cands: Sequence[Member]) -> dict[tuple[int, ...], Member]:
        pools = sorted({pool_of(t, self.depth) for c in cands for t in c.tasks})
        vecs = {c.id: descriptor(c, pools, self.depth, self.compute) for c in cands}
        cells = niches(vecs, self.bins)
        best: dict[tuple[int, ...], Member] = {}
        for c in cands:
            cur = best.get(cells[c.id])
            if cur is None or (c.score, -int(c.id)) > (cur.score, -int(cur.id)):
                best[cells[c.id]] = c
        return best

    def probabilities(self, cands: Sequence[Member]) -> dict[str, float]:
        elites = {m.id for m in self.elites(cands).values()}
        nov = novelty(cands, self.k)
        top = max((nov[e] for e in elites), default=0.0)
        return _normalise({c.id: (1.0 + self.w * (nov[c.id] / top if top > 0 else 0.0))
                           if c.id in elites else 0.0 for c in cands})
