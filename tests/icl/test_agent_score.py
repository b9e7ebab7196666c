"""The agent-score rule (dgm/engine/evaluation.py agent_score), as the archive stores it for show/viewer/selection."""

import pytest

from dgm.archive.store import Archive
from dgm.engine.evaluation import agent_score
from dgm.suites import TaskResult
from icl_helpers import CENTROID_AGENT


def _rows(prefix, scores):
    return [TaskResult(f"{prefix}/{i:03d}", s, s > 0.5) for i, s in enumerate(scores)]


def test_rule_weighs_stages_by_tasks_and_suites_equally():
    assert agent_score([("icl", 0, 6.0, 10), ("icl", 1, 30.0, 40)]) == pytest.approx(36 / 50)
    assert agent_score([("icl", 0, 6.0, 10), ("toy", 0, 1.0, 1)]) == pytest.approx((0.6 + 1.0) / 2)
    assert agent_score([]) is None


def test_archive_score_follows_the_rule_and_the_salt_is_stable(tmp_path):
    with Archive.create(tmp_path / "a") as a:
        seed = a.add_seed(CENTROID_AGENT, run="r")
        a.record_evaluation(seed, "icl", 0, _rows("s1", [1.0, 0.0]), run="r")
        assert a.agent(seed).score == pytest.approx(0.5)
        score = a.record_evaluation(seed, "icl", 1, _rows("s2", [1.0, 1.0, 1.0, 0.0, -0.2, 1.0]), run="r")
        # stage 2's tasks are new ones, so each task row counts once: (1 + 3.8) / 8
        assert score == pytest.approx(4.8 / 8) == a.agent(seed).score
        a.record_evaluation(seed, "toy", 0, _rows("t", [0.0]), run="r")
        assert a.agent(seed).score == pytest.approx((4.8 / 8 + 0.0) / 2)
        salt = a.eval_secret()
        assert len(salt) == 32 and a.eval_secret() == salt
    with Archive.open(tmp_path / "a") as again:
        assert again.eval_secret(create=False) == salt  # recorded host-side: replay sees the same tasks


def test_show_and_viewer_data_carry_the_reference_rows(tmp_path, make_suite, make_ctx):
    """A real icl stage recorded in an archive: dgm show prints the reference rows, the viewer's
    data has them per stage."""
    from typer.testing import CliRunner
    from dgm.cli.app import app
    from dgm.web import data
    from icl_helpers import SMALL_STAGE
    out = make_suite(SMALL_STAGE).evaluate(CENTROID_AGENT, 0, make_ctx())
    with Archive.create(tmp_path / "a") as a:
        seed = a.add_seed(CENTROID_AGENT, run="r")
        a.record_evaluation(seed, "icl", 0, out.results, run="r", artifacts=out.artifacts)
        stages = data.agent(a, seed)["stages"]
    assert stages[0]["references"]["logreg"]["score"] > 0.3 and stages[0]["se"] > 0
    assert "wine" in stages[0]["pools"]
    r = CliRunner().invoke(app, ["show", seed, "--archive", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    assert "reference rows" in r.output and "logreg" in r.output and "±" in r.output
    assert "wine: chance" in r.output.replace("\n", " ") or "wine:" in r.output
