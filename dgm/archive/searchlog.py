"""The search's own records in the archive: operator outcomes, fingerprints, confirmations.

Written by the scheduler only (the single writer), under the archive's lock.
Tables (schema 3, dgm/archive/db.py): ``proposal_meta`` (written by commit_child),
``operator_outcomes`` (one row per finished child: did its operator make a
child that beat its parent beyond noise?), ``fingerprints`` (program hash per
agent, for duplicate detection) and ``confirmations`` (per-task scores of the
extra meta-train seeds a possible best agent was re-evaluated with).
"""

from __future__ import annotations

import time
from typing import Iterable

from dgm.stats import Interval, paired, paired_interval


def task_scores(archive, agent: str) -> dict[str, float]:
    """The agent's per-task scores, keyed suite/stage/task (its primary evaluation)."""
    return {f"{s}\x00{st}\x00{t}": sc for s, st, t, sc in archive.query(
        "SELECT suite, stage, task, score FROM evaluations WHERE agent=?", [agent])}


def gain_over(archive, agent: str, other: str, confidence: float = 0.95) -> Interval | None:
    """Paired per-task interval of ``agent`` − ``other`` on the tasks both ran."""
    return paired_interval(paired(task_scores(archive, agent), task_scores(archive, other)),
                           confidence)


def record_outcome(archive, agent: str, *, run: str | None, outcome: str, z: float,
                   confidence: float = 0.95) -> bool | None:
    """Record whether the operator that made ``agent`` succeeded; None when it has no operator."""
    meta = archive.proposal_meta(agent)
    if not meta or not meta.get("operator"):
        return None
    parent = archive.agent(agent).parent
    iv = gain_over(archive, agent, parent, confidence) if outcome == "admitted" else None
    success = bool(iv is not None and iv.mean > 0 and iv.mean > z * iv.se)
    with archive._write(), archive._tx():
        archive.db.execute(
            "INSERT OR REPLACE INTO operator_outcomes VALUES (?,?,?,?,?,?,?,?)",
            [agent, run, meta["operator"], int(success), None if iv is None else iv.mean,
             None if iv is None else iv.se, outcome, time.time()])
    return success


def record_rejected_outcome(archive, proposal_id: int, operator: str | None, *, run: str | None,
                            outcome: str) -> None:
    """A proposal turned away before evaluation (pre-check) counts as its operator's failure."""
    if operator:
        with archive._write(), archive._tx():
            archive.db.execute("INSERT OR REPLACE INTO operator_outcomes VALUES (?,?,?,?,?,?,?,?)",
                               [f"p{proposal_id}", run, operator, 0, None, None, outcome, time.time()])


# -- fingerprints ------------------------------------------------------------------
def fingerprints(archive) -> dict[str, str]:
    """hash -> the earliest agent with that program."""
    out: dict[str, str] = {}
    for h, aid in archive.query("SELECT f.hash, f.agent FROM fingerprints f JOIN agents a "
                                "ON a.id = f.agent ORDER BY a.seq"):
        out.setdefault(h, aid)
    return out


def set_fingerprint(archive, agent: str, h: str) -> None:
    with archive._write(), archive._tx():
        archive.db.execute("INSERT OR REPLACE INTO fingerprints VALUES (?, ?)", [agent, h])


def mark_duplicate(archive, agent: str, of: str) -> None:
    """``agent`` is the same program as ``of``: it takes ``of``'s score, is never evaluated,
    and a 'duplicate' edge points from the original to it."""
    orig = archive.agent(of)
    reason = f"same program as {of} (status {orig.status}); not evaluated again"
    with archive._write(), archive._tx():
        archive.db.execute("UPDATE agents SET status='duplicate', reason=?, score=?, updated=? "
                           "WHERE id=? AND status='proposed'", [reason, orig.score, time.time(), agent])
        archive.db.execute("INSERT OR IGNORE INTO edges VALUES (?, ?, 'duplicate')", [of, agent])


# -- confirmations -------------------------------------------------------------------
def record_confirmation(archive, agent: str, suite: str, stage: int, seed: int,
                        results: Iterable, run: str | None) -> None:
    now = time.time()
    rows = [[agent, suite, stage, seed, r.task_id, float(r.score), run, now] for r in results]
    with archive._write(), archive._tx():
        archive.db.conn.executemany("INSERT OR REPLACE INTO confirmations VALUES (?,?,?,?,?,?,?,?)",
                                    rows)


def confirmed_seeds(archive, agent: str) -> set[tuple[str, int, int]]:
    return set(archive.query("SELECT DISTINCT suite, stage, seed FROM confirmations WHERE agent=?",
                             [agent]))


def per_seed_means(archive, agent: str, primary_seed: int) -> dict[int, dict[str, float]]:
    """seed -> {suite/stage/task: score}: the primary evaluation plus every confirmation."""
    out: dict[int, dict[str, float]] = {primary_seed: task_scores(archive, agent)}
    for suite, stage, seed, task, score in archive.query(
            "SELECT suite, stage, seed, task, score FROM confirmations WHERE agent=?", [agent]):
        out.setdefault(seed, {})[f"{suite}\x00{stage}\x00{task}"] = score
    return out


def seed_gain(archive, agent: str, base: str, primary_seed: int,
              confidence: float = 0.95) -> Interval | None:
    """Gain of ``agent`` over ``base`` paired by meta-train seed: per seed, the difference of
    the two agents' means over the tasks both ran with that seed; a t interval over seeds."""
    a, b = per_seed_means(archive, agent, primary_seed), per_seed_means(archive, base, primary_seed)
    diffs = []
    for seed in sorted(a.keys() & b.keys()):
        d = paired(a[seed], b[seed])
        if d:
            diffs.append(sum(d) / len(d))
    return paired_interval(diffs, confidence)


def confirmed_mean(archive, agent: str, primary_seed: int) -> tuple[float, int] | None:
    """The agent's mean over all its seeds (seed means averaged) and the number of seeds."""
    means = [sum(v.values()) / len(v) for v in per_seed_means(archive, agent, primary_seed).values() if v]
    return (sum(means) / len(means), len(means)) if means else None
