"""Exact probabilities of the calibrated selection rules: dgm (top-3 centre), dgm2025, qd."""

import math
import random

import pytest

from dgm.config import SearchConfig
from dgm.engine.population import Member, Population
from dgm.engine.qd import QDSelection, novelty
from dgm.engine.selection import make_strategy, sigmoid


def member(i, score, admitted=0, failed=0, tasks=None, seconds=1.0):
    m = Member(f"{i:06d}", None, "admitted", score, admitted_children=admitted, failed_children=failed)
    m.tasks, m.seconds = dict(tasks or {}), seconds
    return m


# Scores near 0.9, as on the icl suite: the 2025 centre (0.5) is flat there.
HIGH = [member(1, 0.86, admitted=1, failed=2), member(2, 0.90), member(3, 0.92, admitted=2),
        member(4, 0.95, failed=1)]


def test_dgm_centres_the_sigmoid_on_the_mean_of_the_top_3_and_counts_failed_children():
    p = make_strategy("dgm").probabilities(HIGH)
    a0 = (0.95 + 0.92 + 0.90) / 3
    raw = {"000001": sigmoid(10 * (0.86 - a0)) / (1 + 1 + 2), "000002": sigmoid(10 * (0.90 - a0)) / 1,
           "000003": sigmoid(10 * (0.92 - a0)) / 3, "000004": sigmoid(10 * (0.95 - a0)) / 2}
    total = sum(raw.values())
    assert p == pytest.approx({k: v / total for k, v in raw.items()})


def test_dgm_slope_and_failed_counting_are_configurable():
    s = make_strategy("dgm", SearchConfig(dgm_lambda=40, dgm_top_k=2, count_failed_children=False))
    a0 = (0.95 + 0.92) / 2
    raw = {"000001": sigmoid(40 * (0.86 - a0)) / 2, "000002": sigmoid(40 * (0.90 - a0)),
           "000003": sigmoid(40 * (0.92 - a0)) / 3, "000004": sigmoid(40 * (0.95 - a0))}
    total = sum(raw.values())
    assert s.probabilities(HIGH) == pytest.approx({k: v / total for k, v in raw.items()})


def test_dgm2025_keeps_the_fixed_centre_and_admitted_children_only():
    p = make_strategy("dgm2025", SearchConfig()).probabilities(HIGH)
    raw = {"000001": sigmoid(10 * 0.36) / 2, "000002": sigmoid(10 * 0.40),
           "000003": sigmoid(10 * 0.42) / 3, "000004": sigmoid(10 * 0.45)}
    total = sum(raw.values())
    assert p == pytest.approx({k: v / total for k, v in raw.items()})
    # the old rule is nearly flat in scores at 0.9: the new one is not
    new = make_strategy("dgm").probabilities(HIGH)
    assert max(p.values()) / min(p.values()) < 4 < max(new.values()) / min(new.values())


def test_population_counts_failed_rejected_and_duplicate_children():
    pop = Population()
    pop.add("000001", None, "admitted")
    for i, status in enumerate(["rejected", "failed", "duplicate", "admitted"], 2):
        pop.add(f"{i:06d}", "000001", status)
    pop.add("000006", "000001")
    assert (pop.members["000001"].admitted_children, pop.members["000001"].failed_children) == (1, 3)
    pop.set_status("000006", "evaluating")
    pop.set_status("000006", "failed")
    assert pop.members["000001"].failed_children == 4


def qd_cands():
    # two pools; agents 1 and 2 share a niche (2 is better), 3 and 4 are elsewhere
    def t(a, b):
        return {"p1/c/000": a, "p1/c/001": a, "p2/c/000": b}
    return [member(1, 0.50, tasks=t(0.9, 0.1)), member(2, 0.55, tasks=t(0.95, 0.1)),
            member(3, 0.40, tasks=t(0.1, 0.9)), member(4, 0.45, tasks=t(0.6, 0.6))]


def test_qd_keeps_one_elite_per_niche_weighted_by_novelty():
    cands = qd_cands()
    s = QDSelection(bins=2, depth=1, compute=False, novelty_weight=0.5, k=2)
    elites = {m.id for m in s.elites(cands).values()}
    assert elites == {"000002", "000003", "000004"}
    vec = {c.id: [c.tasks[k] for k in sorted(c.tasks)] for c in cands}
    nov = {}
    for c in cands:
        d = sorted(math.dist(vec[c.id], vec[o.id]) for o in cands if o.id != c.id)[:2]
        nov[c.id] = sum(d) / 2
    assert novelty(cands, 2) == pytest.approx(nov)
    top = max(nov[e] for e in elites)
    raw = {e: 1 + 0.5 * nov[e] / top for e in elites}
    total = sum(raw.values())
    p = s.probabilities(cands)
    assert p["000001"] == 0.0
    assert {k: v for k, v in p.items() if k in elites} == pytest.approx({e: raw[e] / total for e in elites})


def test_qd_compute_is_a_behaviour_dimension_and_sampling_matches():
    cands = qd_cands()
    cands[0].seconds = 100.0  # agent 1 is now alone in a compute niche: an elite too
    s = QDSelection(bins=2, depth=1, compute=True, novelty_weight=0.0)
    p = s.probabilities(cands)
    assert p["000001"] > 0 and sum(v > 0 for v in p.values()) >= 3
    draws = s.select(cands, 4000, random.Random(1))
    for c in cands:
        assert draws.count(c.id) / 4000 == pytest.approx(p[c.id], abs=0.03)
