"""Each selection strategy's probabilities on a hand-built archive view."""

import math
import random

import pytest

from dgm.errors import ConfigError
from dgm.engine.population import Member, Population
from dgm.engine.selection import STRATEGIES, make_strategy, sigmoid


def member(i, score, children=0, clade_pass=0, clade_n=0):
    m = Member(f"{i:06d}", None, "admitted", score, admitted_children=children)
    m.clade_pass, m.clade_n, m.clade_sum = clade_pass, clade_n, float(clade_pass)
    return m


CANDS = [member(1, 0.2, children=3), member(2, 0.5, children=0), member(3, 0.8, children=1)]


def test_dgm_is_score_child_prop():
    p = make_strategy("dgm").probabilities(CANDS)
    raw = {"000001": sigmoid(10 * (0.2 - 0.5)) / 4, "000002": sigmoid(0.0) / 1,
           "000003": sigmoid(10 * 0.3) / 2}
    total = sum(raw.values())
    for k, v in raw.items():
        assert p[k] == pytest.approx(v / total)
    assert math.isclose(sum(p.values()), 1.0)


def test_score_ignores_children():
    p = make_strategy("score").probabilities(CANDS)
    raw = [sigmoid(10 * (s - 0.5)) for s in (0.2, 0.5, 0.8)]
    assert [p[c.id] for c in CANDS] == pytest.approx([r / sum(raw) for r in raw])


def test_random_is_uniform_and_greedy_takes_the_best():
    assert list(make_strategy("random").probabilities(CANDS).values()) == pytest.approx([1 / 3] * 3)
    g = make_strategy("greedy")
    assert g.probabilities(CANDS) == {"000001": 0.0, "000002": 0.0, "000003": 1.0}
    assert g.select(CANDS, 4, random.Random(0)) == ["000003", "000002", "000001", "000003"]


def test_weighted_is_median_mad_centred():
    p = make_strategy("weighted").probabilities(CANDS)
    med, mad = 0.5, 0.3
    raw = [sigmoid(10 * (0.2 - med) / mad) / 4, sigmoid(0) / 1, sigmoid(10 * (0.8 - med) / mad) / 2]
    assert [p[c.id] for c in CANDS] == pytest.approx([r / sum(raw) for r in raw])


def test_hgm_thompson_sampling_prefers_productive_clades():
    cands = [member(1, 0.1, clade_pass=1, clade_n=20), member(2, 0.1, clade_pass=15, clade_n=20),
             member(3, 0.1, clade_pass=0, clade_n=0)]  # no clade results: not eligible
    probs = make_strategy("hgm").probabilities(cands, samples=3000, seed=1)
    assert probs["000002"] > 0.95 and probs["000003"] == 0.0


def test_selection_is_deterministic_under_a_seed_and_draws_with_replacement():
    for name in STRATEGIES:
        s = make_strategy(name)
        a = s.select(CANDS, 20, random.Random(7))
        assert a == s.select(CANDS, 20, random.Random(7))
        assert len(a) == 20
    sampled = make_strategy("dgm").select(CANDS, 4000, random.Random(3))
    p = make_strategy("dgm").probabilities(CANDS)
    for c in CANDS:
        assert sampled.count(c.id) / 4000 == pytest.approx(p[c.id], abs=0.03)


def test_unknown_strategy_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown selection strategy 'best'.*dgm"):
        make_strategy("best")


def test_population_tracks_admitted_children_and_clades():
    pop = Population()
    pop.add("000001", None, "admitted")
    pop.add("000002", "000001")
    pop.add("000003", "000002")
    pop.set_status("000002", "admitted")
    pop.set_results("000003", 2.0, 4, 2)
    pop.set_results("000003", 3.0, 4, 3)  # re-recorded: replaces, never double counts
    assert pop.members["000001"].admitted_children == 1
    assert (pop.members["000001"].clade_n, pop.members["000001"].clade_pass) == (4, 3)
    pop.set_status("000002", "rejected")
    assert pop.members["000001"].admitted_children == 0
