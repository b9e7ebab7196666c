"""The llm proposer on the metalearner agent, with the real archive and the gateway."""

import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from dgm.archive.store import Archive
from dgm.proposers.base import ProposalRejected, ProposeContext
from dgm.proposers.llm import LLMProposer, LLMProposerConfig
from tests.fakes.fake_openai import Fault

REPO = Path(__file__).resolve().parents[2]
FAIL_LOG = "Traceback (most recent call last):\n  File \"/agent/model.py\", line 12\nRuntimeError: NaN loss at step 40"


@dataclass
class Result:
    task_id: str
    score: float
    resolved: bool
    log: str = ""
    seconds: float = 0.0


@pytest.fixture
def world(tmp_path):
    """An archive with the metalearner seed, evaluated (one task failed with a traceback)."""
    agent = tmp_path / "seed"
    shutil.copytree(REPO / "agents" / "metalearner", agent,
                    ignore=shutil.ignore_patterns("__pycache__"))
    archive = Archive.create(tmp_path / "archive")
    seed = archive.add_seed(agent, summary="seed meta-learner")
    archive.record_evaluation(seed, "icl", 0, [Result("digits", 0.8, True, "ok"),
                                               Result("wine", 0.0, False, FAIL_LOG)],
                              artifacts={"stderr-wine": "loss became NaN after lr warmup"})
    archive.set_status(seed, "evaluating")
    archive.set_status(seed, "admitted")
    parent = tmp_path / "parent"
    archive.materialize(seed, parent)
    yield archive, seed, parent, tmp_path
    archive.close()


def unique_line(path: Path) -> str:
    lines = path.read_text().splitlines()
    return next(ln for ln in lines if ln.strip() and lines.count(ln) == 1 and "=" in ln)


def block(parent: Path, rel: str = "config.py", note: str = "# tuned") -> str:
    line = unique_line(parent / rel)
    return (f"SUMMARY: tune {rel}\n\n{rel}\n```python\n<<<<<<< SEARCH\n{line}\n=======\n"
            f"{line}  {note}\n>>>>>>> REPLACE\n```\n")


def ctx_for(world, i=0):
    archive, seed, parent, tmp = world
    return ProposeContext(parent_id=seed, parent_dir=parent, rng=random.Random(i),
                          archive=archive, work_dir=tmp / f"work{i}")


def test_proposal_is_a_valid_child_in_the_archive(fake_openai, gateway, world):
    archive, seed, parent, _ = world
    fake_openai.push(block(parent))
    proposal = LLMProposer(gateway.access).propose(ctx_for(world))
    assert proposal.summary == "tune config.py"
    assert "diff --git a/config.py b/config.py" in proposal.diff
    assert proposal.usage.prompt_tokens > 0 and proposal.usage.model == "gpt-4o-mini"
    added = archive.add_child(seed, proposal.diff, summary=proposal.summary, proposer="llm",
                              usage=proposal.usage)
    assert added.ok, added.reason
    assert "# tuned" in archive.diff(added.agent_id)
    # the prompt held the code, the results, the failure log and its artifact
    prompt = fake_openai.completion_requests[0].messages[1]["content"]
    assert "### model.py" in prompt and "### config.py" in prompt
    assert "wine: score 0.000 FAILED" in prompt
    assert "NaN loss at step 40" in prompt and "loss became NaN after lr warmup" in prompt
    # the gateway billed the call to this proposal's label
    assert gateway.usage()["calls"] == 1
    # once the child is admitted with a better score, its change is context for the next one
    archive.record_evaluation(added.agent_id, "icl", 0, [Result("digits", 1.0, True),
                                                         Result("wine", 0.9, True)])
    archive.set_status(added.agent_id, "evaluating")
    archive.set_status(added.agent_id, "admitted")
    fake_openai.push(block(parent, "model.py"))
    LLMProposer(gateway.access).propose(ctx_for(world, 1))
    prompt = fake_openai.completion_requests[1].messages[1]["content"]
    assert f"top agent {added.agent_id} (score 0.950, parent {seed}): tune config.py" in prompt
    assert "# tuned" in prompt.split("# Its relatives in the archive")[1]


def test_unmatched_block_gets_one_retry_with_the_error(fake_openai, gateway, world):
    _, _, parent, _ = world
    bad = "config.py\n<<<<<<< SEARCH\nthis line is not in the file\n=======\nx = 1\n>>>>>>> REPLACE\n"
    fake_openai.push("SUMMARY: two edits\n" + block(parent, "model.py", "# ok") + bad,
                     block(parent))
    proposal = LLMProposer(gateway.access).propose(ctx_for(world))
    retry = fake_openai.completion_requests[1].messages
    assert retry[-2]["role"] == "assistant"
    assert "block 2 (config.py): SEARCH text not found" in retry[-1]["content"]
    assert "stay applied" in retry[-1]["content"]
    assert "a/model.py" in proposal.diff and "a/config.py" in proposal.diff
    assert proposal.summary == "two edits"


def test_second_failure_rejects_with_reasons(fake_openai, gateway, world):
    bad = "config.py\n<<<<<<< SEARCH\nnope\n=======\nx = 1\n>>>>>>> REPLACE\n"
    fake_openai.push(bad, "../outside.py\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\n")
    with pytest.raises(ProposalRejected) as info:
        LLMProposer(gateway.access).propose(ctx_for(world))
    assert "after one retry" in info.value.reason and "escapes" in info.value.reason
    assert info.value.usage.completion_tokens > 0
    assert fake_openai.completions == 2


def test_noop_edit_is_rejected_not_committed(fake_openai, gateway, world):
    _, _, parent, _ = world
    line = unique_line(parent / "config.py")
    fake_openai.push(f"config.py\n<<<<<<< SEARCH\n{line}\n=======\n{line}\n>>>>>>> REPLACE\n")
    with pytest.raises(ProposalRejected, match="empty diff"):
        LLMProposer(gateway.access).propose(ctx_for(world))


def test_model_failures_and_budget_become_rejections(fake_openai, make_gateway, world):
    from dgm.faults import HostFault

    # a prompt is ~4,900 tokens (~19.8 kB, so its worst case is ~20,800 with 1,000 of output):
    # room for one call's usage plus the retry's worst case (~25,900), not for two calls'
    # usage plus a third's worst case (~30,500)
    gw = make_gateway(max_retries=1, budget_tokens=28000, max_output_tokens=1000)
    fake_openai.push(Fault("500"), Fault("500"))
    # an endpoint that keeps failing is the host's fault, not the proposal's (docs/faults.md)
    with pytest.raises(HostFault, match="model call failed.*gave up after 2 attempts") as info:
        LLMProposer(gw.access).propose(ctx_for(world, 1))
    assert info.value.cause == "endpoint"
    fake_openai.push("no edits at all, sorry", "still none")
    with pytest.raises(ProposalRejected, match="no edits found"):
        LLMProposer(gw.access).propose(ctx_for(world, 2))
    assert not gw.budget_exhausted
    with pytest.raises(ProposalRejected, match="budget"):
        LLMProposer(gw.access).propose(ctx_for(world, 3))
    assert gw.budget_exhausted  # the engine's own call no longer fits: the run stops


def test_large_codebase_shows_the_relevant_files(fake_openai, gateway, tmp_path):
    agent = tmp_path / "big"
    (agent / "deep").mkdir(parents=True)
    for i in range(30):
        (agent / f"filler{i:02}.py").write_text(f"# filler {i}\n" + "x = 1\n" * 400)
    (agent / "deep" / "critical.py").write_text("def step():\n    return float('nan')\n" + "#\n" * 300)
    (agent / "agent.toml").write_text('name = "big"\n')

    archive = Archive.create(tmp_path / "archive")
    seed = archive.add_seed(agent, summary="big agent")
    archive.record_evaluation(seed, "s", 0, [Result(
        "t1", 0.0, False, 'File "/agent/deep/critical.py", line 2, in step\nValueError: nan')])
    fake_openai.push("deep/critical.py\n<<<<<<< SEARCH\n    return float('nan')\n=======\n"
                     "    return 0.0\n>>>>>>> REPLACE\n")
    ctx = ProposeContext(seed, agent, random.Random(0), archive, tmp_path / "w")
    proposal = LLMProposer(gateway.access, LLMProposerConfig(code_chars=6000)).propose(ctx)
    archive.close()
    prompt = fake_openai.completion_requests[0].messages[1]["content"]
    assert "### deep/critical.py" in prompt
    assert re.search(r"filler29.py \(\d+ bytes\) \(not shown: over the prompt budget\)", prompt)
    assert len(prompt) < 12_000
    assert "+    return 0.0" in proposal.diff
