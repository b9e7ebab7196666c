"""A broken agent scores 0 with its reason recorded; the suite never raises for it.

Every case runs through the sandbox fixture (LocalSandbox until the real
backends land) with the fast centroid agent, broken in one way each.
"""

import pytest

from icl_helpers import CENTROID_AGENT, SMALL_STAGE, copy_agent


@pytest.fixture
def stage():
    return dict(SMALL_STAGE, pools=["wine"], meta_train_timeout=8, predict_timeout=8,
                max_checkpoint_mb=1)


def test_centroid_agent_works(make_suite, make_ctx, stage):
    """The unbroken agent: non-zero scores, full artifacts (the control for the cases below)."""
    out = make_suite(stage).evaluate(CENTROID_AGENT, 0, make_ctx())
    assert len(out.results) == 12 and out.score > 0.5
    assert {"summary.md", "diagnostics.md", "diagnostics.json", "meta_train.log"} <= set(out.artifacts)
    assert "failure.txt" not in out.artifacts
    assert out.results[0].task_id == "wine/ctx10/000" and "logreg" in out.results[0].log
    assert all(type(r.resolved) is bool and type(r.score) is float for r in out.results)  # storable


@pytest.mark.parametrize("mode, reason", [
    ("train_crash", "meta-train failed: exit code"),
    ("train_timeout", "meta-train timed out"),
    ("big_checkpoint", "checkpoint, more than"),
    ("predict_crash", "predict failed: exit code"),
    ("predict_timeout", "predict timed out"),
    ("wrong_shape", "has shape"),
    ("nan", "non-finite logits"),
    ("huge_file", "far more than"),
    ("no_output", "no logits file"),
])
def test_broken_agent_scores_zero(make_suite, make_ctx, tmp_path, stage, mode, reason):
    agent = copy_agent(CENTROID_AGENT, tmp_path / mode, {"main.py": ('BREAK = "none"', f'BREAK = "{mode}"')})
    out = make_suite(stage).evaluate(agent, 0, make_ctx())
    assert out.results and out.score == 0.0
    assert all(r.score == 0.0 and not r.resolved for r in out.results)
    assert all(reason in r.log for r in out.results), out.results[0].log
    if mode != "nan":  # NaN is judged per task; the others void the whole stage
        assert reason in out.artifacts["failure.txt"]
    if mode == "train_crash":
        assert "deliberate crash in meta-train" in out.artifacts["failure.txt"]


def test_huge_stdout_is_capped_not_fatal(make_suite, make_ctx, tmp_path, stage):
    """20 MB of stdout: the run is still scored, and the logs kept stay small."""
    agent = copy_agent(CENTROID_AGENT, tmp_path / "a", {"main.py": ('BREAK = "none"', 'BREAK = "huge_stdout"')})
    out = make_suite(stage).evaluate(agent, 0, make_ctx())
    assert out.score > 0.5
    assert all(len(v) < 20_000 for v in out.artifacts.values())


@pytest.mark.parametrize("manifest, reason", [
    (None, "has no agent.toml"),
    ('name = "x"\ndomain = "metalearning"\n[commands]\npredict = ["python3"]\n', "needs commands"),
    ('name = "x"\ndomain = "coding"\n[commands]\nsolve = ["true"]\n', "needs 'metalearning'"),
])
def test_bad_manifest_scores_zero(make_suite, make_ctx, tmp_path, stage, manifest, reason):
    agent = copy_agent(CENTROID_AGENT, tmp_path / "a")
    if manifest is None:
        (agent / "agent.toml").unlink()
    else:
        (agent / "agent.toml").write_text(manifest)
    out = make_suite(stage).evaluate(agent, 0, make_ctx())
    assert out.score == 0.0 and reason in out.results[0].log


def test_missing_command_binary(make_suite, make_ctx, tmp_path, stage):
    agent = copy_agent(CENTROID_AGENT, tmp_path / "a", {"agent.toml": (
        'meta-train = ["python3", "main.py", "meta-train"]', 'meta-train = ["/nonexistent/bin"]')})
    out = make_suite(stage).evaluate(agent, 0, make_ctx())
    assert out.score == 0.0 and "meta-train" in out.results[0].log
