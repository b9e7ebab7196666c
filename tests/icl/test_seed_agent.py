"""The seed meta-learner on the real smoke stage: quality, determinism, checkpoint reuse.

Slow: each meta-training is the smoke budget (500 steps, ~15 s on one free core).
"""

import json

import pytest

from icl_helpers import SEED_AGENT
from icl_host.pools import MissingPool, load_pool

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def first(request, icl_cache, sandbox, tmp_path_factory):
    """Stage 0 of the real suite.toml, training stored in the (session) checkpoint cache."""
    from icl_helpers import scorer
    from dgm.suites import EvalContext, load_spec
    suite = scorer.IclSuite(load_spec("icl"), cache_dir=icl_cache, reuse_checkpoints=True)
    ctx = EvalContext(sandbox=sandbox, workdir=tmp_path_factory.mktemp("seed"), seed=0)
    return suite.evaluate(SEED_AGENT, 0, ctx)


def _cells(outcome):
    return {c["cell"]: c for c in json.loads(outcome.artifacts["diagnostics.json"])["cells"]}


def test_beats_chance_widely_and_is_near_1nn(first):
    assert "failure.txt" not in first.artifacts, first.artifacts["failure.txt"]
    cells = _cells(first)
    d50 = cells["digits_heldout/ctx50"]
    assert d50["agent"] > d50["chance"] + 0.4, d50
    assert d50["agent"] >= d50["nn1"] - 0.10, d50  # within 10 points of 1-NN
    for c in cells.values():
        assert c["agent"] > c["chance"] + 0.15, c
    diag = json.loads(first.artifacts["diagnostics.json"])
    assert diag["icl_gain"]["digits_heldout"]["gain"] > 0.15
    assert abs(diag["shuffled_control"]["acc"] - diag["shuffled_control"]["chance"]) < 0.05
    assert abs(diag["memorisation"]["gap_seen_tasks"]) < 0.1  # a general learner: no memorisation
    assert diag["meta_train"]["steps"] == 500 and diag["meta_train"]["flops"] > 0


def test_same_seed_same_scores(first, make_suite, make_ctx):
    """A fresh meta-training with the same seed and budget gives identical per-task scores."""
    again = make_suite(reuse=False).evaluate(SEED_AGENT, 0, make_ctx(seed=0))
    assert "failure.txt" not in again.artifacts, again.artifacts["failure.txt"]
    assert not json.loads(again.artifacts["diagnostics.json"])["meta_train"]["cached"]
    assert [(r.task_id, r.score) for r in again.results] == [(r.task_id, r.score) for r in first.results]


def test_later_stage_reuses_the_checkpoint_on_every_pool(first, make_suite, make_ctx):
    try:
        load_pool("fashion_mnist_test")
        pools = ["digits_heldout", "fashion_mnist_test", "wine", "iris", "breast_cancer"]
    except MissingPool:
        pools = ["digits_heldout", "wine", "iris", "breast_cancer"]
    from icl_helpers import load_spec
    smoke = load_spec("icl").stages[0].params
    train_args = {k: smoke[k] for k in ("train_pool", "train_flops", "tier", "threads") if k in smoke}
    suite = make_suite(dict(train_args, pools=pools, tasks=10), reuse=True)
    out = suite.evaluate(SEED_AGENT, 0, make_ctx())
    diag = json.loads(out.artifacts["diagnostics.json"])
    assert diag["meta_train"]["cached"]
    cells = _cells(out)
    assert len(cells) == 2 * len(pools)
    assert all(c["agent"] > c["chance"] + 0.1 for c in cells.values()), cells
    assert out.score > 0.45  # the open score: (acc - chance) / (ceiling - chance)
