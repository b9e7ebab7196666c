"""``[run.agent_env]`` reaches the self-modification run: the proposer built from a dgm.toml
runs the parent agent in its sandbox with those variables (and still no host secret)."""

from __future__ import annotations

import json

import pytest

from dgm.archive.store import Archive
from dgm.config import load_config
from dgm.proposers.factory import make_proposer
from tests.fakes.fake_openai import tool_call
from tests.llm.test_selfmod import PLAN, REPO, TASK_LOG, Result, ctx_for, dispatch


@pytest.fixture
def world(tmp_path):
    """A seed coding agent with one failed task (as tests/llm/test_selfmod.py's)."""
    archive = Archive.create(tmp_path / "archive")
    seed = archive.add_seed(REPO / "agents" / "coding", summary="seed coding agent")
    archive.record_evaluation(seed, "swe-mini", 0, [Result("t-ok", 1.0, True, "resolved"),
                                                    Result("t-bad", 0.0, False, TASK_LOG)])
    parent = tmp_path / "parent"
    archive.materialize(seed, parent)
    yield archive, seed, parent, tmp_path
    archive.close()


def test_agent_env_from_dgm_toml_reaches_the_self_modification_run(fake_openai, gateway, world,
                                                                   tmp_path):
    toml = tmp_path / "dgm.toml"
    toml.write_text('[run]\ndomain = "coding"\nproposer = "self"\n'
                    '[run.model]\nbase_url = "http://127.0.0.1:9/v1"\n'
                    '[run.proposers.self]\nseconds = 120\n'
                    '[run.agent_env]\nDGM_PROBE = "probe-7f3a"\n')
    cfg = load_config(toml)
    dispatch(fake_openai, [json.dumps(PLAN)], [
        tool_call("bash", command='printf "%s|%s" "$DGM_PROBE" "${HOME_SECRET:-none}" > probe.txt'),
        "Wrote the probe.",
    ])
    proposer = make_proposer("self", cfg, gateway.access)
    assert proposer.config.seconds == 120
    proposal = proposer.propose(ctx_for(world))
    assert "+++ b/probe.txt" in proposal.diff
    assert "+probe-7f3a|none" in proposal.diff
