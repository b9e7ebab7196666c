"""GPICL's memorisation regime: a learner meta-trained on 16 fixed tasks knows those, not others."""

import json

import pytest

from icl_helpers import SEED_AGENT, copy_agent

pytestmark = pytest.mark.slow


def test_sixteen_task_agent_memorises(make_suite, make_ctx, tmp_path):
    agent = copy_agent(SEED_AGENT, tmp_path / "memo", {"config.py": ("train_tasks = 0", "train_tasks = 16")})
    stage = {"pools": ["digits_heldout", "wine"], "tasks": 20, "seen_tasks": 16, "diag_tasks": 20,
             "steps": 500}
    out = make_suite(stage).evaluate(agent, 0, make_ctx())
    diag = json.loads(out.artifacts["diagnostics.json"])
    mem = diag["memorisation"]
    assert mem["seen_tasks_acc"] > 0.8, mem           # high on the 16 tasks it trained on
    assert mem["unseen_acc"] < 0.3, mem               # low on unseen tasks of held-out digits
    assert mem["train_pool_acc"] < 0.3, mem           # ... and on new tasks over its own pool
    assert mem["gap_seen_tasks"] > 0.5
    assert out.score < 0.35                           # so evolution would not select it
    assert "large positive gaps mean memorisation" in out.artifacts["diagnostics.md"]
