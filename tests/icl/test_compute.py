"""The compute meter and budget: exact FLOPs for agents of known cost, refusals over budget."""

import json

import pytest
import torch

from icl_harness.meter import ComputeMeter
from icl_helpers import SMALL_STAGE, copy_agent
from pathlib import Path

LINEAR_AGENT = Path(__file__).resolve().parent / "agents" / "linear"
N = 8 * (10 + 6)  # rows per training step of the linear agent


def train_cost(hidden: int, steps: int) -> int:
    per = 4 * N * 640 if not hidden else 4 * N * 64 * hidden + 6 * N * 10 * hidden
    return steps * per


def predict_cost(hidden: int, groups) -> int:
    w = 640 if not hidden else 74 * hidden
    return sum(2 * len(g) * g.tasks.qx.shape[1] * w for g in groups)


def test_meter_counts_once_per_shape_and_adds_the_kept_count():
    meter = ComputeMeter()
    lin = torch.nn.Linear(64, 10, bias=False)
    for rows in (128, 128, 64):
        with meter.step(("rows", rows)):
            lin(torch.randn(rows, 64)).sum().backward()
    assert meter.flops == 4 * 640 * (128 + 128 + 64)
    assert meter.ledger()["shapes"] == 2 and meter.steps == 3


@pytest.fixture
def stage():
    return dict(SMALL_STAGE, pools=["wine"], steps=None, train_flops=1e9, predict_flops=1e9,
                meta_train_timeout=300, predict_timeout=300)  # torch start-up on a loaded box


@pytest.mark.parametrize("hidden, steps", [(0, 20), (32, 10)])
def test_compute_of_two_agents_of_known_cost(make_suite, make_ctx, tmp_path, stage, hidden, steps):
    agent = copy_agent(LINEAR_AGENT, tmp_path / f"lin{hidden}",
                       {"main.py": ("STEPS = 20\nHIDDEN = 0", f"STEPS = {steps}\nHIDDEN = {hidden}")})
    suite = make_suite(stage)
    out = suite.evaluate(agent, 0, make_ctx())
    assert "failure.txt" not in out.artifacts, out.artifacts.get("failure.txt")
    rec = json.loads(out.artifacts["stage.json"])
    assert rec["compute"]["train_flops"] == train_cost(hidden, steps)
    assert rec["compute"]["predict_flops"] == predict_cost(hidden, suite.plan(0).predict_groups)
    assert "train_flops" in out.artifacts["summary.md"]


def test_over_budget_is_refused_with_its_reason(make_suite, make_ctx, tmp_path, stage):
    cost = train_cost(0, 20)
    out = make_suite(dict(stage, train_flops=cost - 1)).evaluate(LINEAR_AGENT, 0, make_ctx())
    assert out.score == 0.0 and all(r.score == 0.0 for r in out.results)
    reason = out.artifacts["failure.txt"].splitlines()[0]
    assert reason.startswith("meta-train used") and "over the stage's compute budget" in reason
    assert json.loads(out.artifacts["stage.json"])["compute"]["train_flops"] == cost
    # the control: the same agent at exactly its cost passes
    ok = make_suite(dict(stage, train_flops=cost)).evaluate(LINEAR_AGENT, 0, make_ctx(name="ok"))
    assert "failure.txt" not in ok.artifacts and ok.score > 0.3


def test_predict_over_budget_is_refused(make_suite, make_ctx, stage):
    out = make_suite(dict(stage, predict_flops=10.0)).evaluate(LINEAR_AGENT, 0, make_ctx())
    assert out.score == 0.0 and "predict used" in out.artifacts["failure.txt"]


def test_training_outside_the_meter_is_refused(make_suite, make_ctx, tmp_path, stage):
    agent = copy_agent(LINEAR_AGENT, tmp_path / "unmetered", {"main.py": ("UNMETERED = False",
                                                                          "UNMETERED = True")})
    out = make_suite(stage).evaluate(agent, 0, make_ctx())
    assert out.score == 0.0
    assert "outside icl_harness.METER.step" in out.artifacts["failure.txt"]


def test_seed_budget_stops_training_before_overrun(tmp_path):
    """The seed's loop stops before a step could overrun --flops-budget (in-process, 1 s)."""
    import subprocess
    import sys
    from icl_helpers import REPO, SEED_AGENT
    from icl_host import pools
    pools.write_train_pool("digits_train", tmp_path / "pool.npz")
    budget = 2e10
    cmd = [sys.executable, "main.py", "meta-train", "--train-pool", str(tmp_path / "pool.npz"),
           "--checkpoint", str(tmp_path / "ck"), "--compute", str(tmp_path / "c.json"),
           "--flops-budget", str(budget), "--steps", "400"]
    env = {"PYTHONPATH": str(REPO / "evaluators" / "icl" / "harness"), "PATH": "/usr/bin:/bin",
           "OMP_NUM_THREADS": "1"}
    (tmp_path / "ck").mkdir()
    subprocess.run(cmd, cwd=SEED_AGENT, env=env, check=True, capture_output=True, timeout=300)
    led = json.loads((tmp_path / "c.json").read_text())
    assert 0 < led["flops"] <= budget and led["steps"] < 400
    assert led["batches_drawn"] == led["batches_metered"]
