"""The real stages: later stages score new tasks; reference rows come with every stage."""

import hashlib
import json

import numpy as np
import pytest

from icl_helpers import CENTROID_AGENT, load_spec, scorer


def _digests(groups):
    return {hashlib.sha256(np.ascontiguousarray(g.tasks.cx[i]).tobytes()).hexdigest()
            for g in groups for i in range(len(g))}


def test_stage_tasks_are_disjoint(icl_cache):
    """The scored cells exactly as plan() builds them (without their baselines: 1,240 logregs)."""
    suite = scorer.IclSuite(load_spec("icl"), cache_dir=icl_cache)
    salt = suite.salt()
    plans = [suite.scored_groups(suite.params(i), salt) for i in range(len(suite.stages))]
    ids = [{tid for g in p for tid in g.task_ids} for p in plans]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    # not only the names: no episode of stage 1 is an episode of stage 2
    assert not _digests(plans[0]) & _digests(plans[1])
    assert len(ids[1]) == 1000 and len(ids[0]) == 240
    # varied unseen tasks: four context sizes, 10-way image tasks, pools never meta-trained on
    assert {g.n_ctx for g in plans[1]} == {10, 25, 50, 100}
    assert {g.pool for g in plans[1]} >= {"fashion_mnist_test", "wine", "iris", "breast_cancer"}


def test_every_stage_reports_reference_rows(make_suite, make_ctx):
    from icl_helpers import SMALL_STAGE
    out = make_suite(SMALL_STAGE).evaluate(CENTROID_AGENT, 0, make_ctx())
    rec = json.loads(out.artifacts["stage.json"])
    assert set(rec["references"]) == {"chance", "nn1", "centroid", "lda", "logreg"}
    assert rec["score"] == pytest.approx(sum(r.score for r in out.results) / len(out.results), rel=1e-12)
    assert rec["se"] > 0 and rec["tasks"] == len(out.results)
    # the centroid agent is the centroid reference: it ties it on every pool, to the digit
    assert abs(rec["score"] - rec["references"]["centroid"]["score"]) < 1e-9
    for pool, e in rec["pools"].items():
        assert "centroid" in e["ties"] and "chance" in e["beats"], pool
    summary = out.artifacts["summary.md"]
    for label in ("chance", "1-NN", "centroid", "LDA", "logreg"):
        assert f"| {label} |" in summary.splitlines()[summary.splitlines().index("Score per cell:") + 2] \
            or label in summary
    assert "Which references the agent beats" in summary
