"""The self proposer: diagnosis, then the coding agent edits its own code in a sandbox."""

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from dgm.archive.store import Archive
from dgm.proposers.base import ProposalRejected, ProposeContext
from dgm.proposers.diagnose import PlanError, parse_plan
from dgm.proposers.selfmod import SelfProposer, SelfProposerConfig
from dgm.sandbox.local import LocalSandbox
from tests.fakes.fake_openai import tool_call
from tests.fakes.fixtures import REAL_KEY

REPO = Path(__file__).resolve().parents[2]
PLAN = {
    "log_summarization": "The agent's test run output was cut, so it never saw the failure.",
    "potential_improvements": ["keep more tool output", "summarise long outputs"],
    "improvement_proposal": "Raise the bash tool's output limit to 20,000 characters.",
    "implementation_suggestion": "In tools/bash.py set MAX_OUTPUT = 20_000.",
    "problem_description": "The bash tool truncates output too early; keep up to 20,000 characters.",
}
TASK_LOG = "pytest output (truncated by tools/bash.py at 12000 characters) ... FAILED test_x"


@dataclass
class Result:
    task_id: str
    score: float
    resolved: bool
    log: str = ""
    seconds: float = 0.0


@pytest.fixture
def world(tmp_path):
    archive = Archive.create(tmp_path / "archive")
    seed = archive.add_seed(REPO / "agents" / "coding", summary="seed coding agent")
    archive.record_evaluation(seed, "swe-mini", 0, [Result("t-ok", 1.0, True, "resolved"),
                                                    Result("t-bad", 0.0, False, TASK_LOG)])
    parent = tmp_path / "parent"
    archive.materialize(seed, parent)
    yield archive, seed, parent, tmp_path
    archive.close()


def ctx_for(world, sandbox=LocalSandbox(), parent=None):
    archive, seed, p, tmp = world
    return ProposeContext(parent_id=seed, parent_dir=parent or p, rng=random.Random(0),
                          archive=archive, work_dir=tmp / "work", sandbox=sandbox)


def dispatch(fake, diagnosis_answers, agent_steps):
    """Diagnosis calls have no tools; agent calls do."""
    def respond(req):
        return diagnosis_answers.pop(0) if "tools" not in req else agent_steps.pop(0)
    fake.fallback = respond


def test_agent_improves_its_own_code(fake_openai, gateway, world):
    archive, seed, parent, _ = world
    dispatch(fake_openai, [f"Here is my plan:\n```json\n{json.dumps(PLAN)}\n```"], [
        tool_call("bash", command="git status --short; ls tools; env | grep -c sk-test || true"),
        tool_call("editor", command="str_replace", path="tools/bash.py",
                  old_str="MAX_OUTPUT = 12_000", new_str="MAX_OUTPUT = 20_000"),
        tool_call("bash", command="python3 -m pytest -q tests 2>&1 | tail -1"),
        "Raised the limit; the tool tests pass.",
    ])
    proposal = SelfProposer(gateway.access, SelfProposerConfig(seconds=120)).propose(ctx_for(world))
    assert "-MAX_OUTPUT = 12_000\n+MAX_OUTPUT = 20_000" in proposal.diff
    assert "diff --git a/tools/bash.py b/tools/bash.py" in proposal.diff
    assert "pycache" not in proposal.diff and ".pytest_cache" not in proposal.diff
    assert proposal.summary == PLAN["improvement_proposal"]
    assert json.loads(proposal.diagnosis)["task"] == "t-bad"
    assert "## Step 3" in proposal.transcript and "passed" in proposal.transcript
    assert proposal.meta["changed_files"] == ["tools/bash.py"]
    # diagnosis saw the failed task's log and the agent's code
    diag_req = fake_openai.completion_requests[0]
    assert TASK_LOG in diag_req.messages[1]["content"]
    assert "### tools/bash.py" in diag_req.messages[0]["content"]
    # the agent got the plan as its problem statement, and no real key
    agent_req = fake_openai.completion_requests[1]
    assert "# To Implement" in agent_req.messages[1]["content"]
    assert PLAN["problem_description"] in agent_req.messages[1]["content"]
    env_count = [m for m in fake_openai.completion_requests[-1].messages if m["role"] == "tool"][0]
    assert env_count["content"].strip().endswith("0")
    assert all(r.authorization == f"Bearer {REAL_KEY}" for r in fake_openai.completion_requests)
    # usage covers the diagnosis and the agent's five calls
    assert proposal.usage.prompt_tokens == gateway.usage()["prompt_tokens"] > 0
    assert (parent / "tools" / "bash.py").read_text().count("MAX_OUTPUT = 12_000") == 1
    added = archive.add_child(seed, proposal.diff, summary=proposal.summary, proposer="self",
                              diagnosis=proposal.diagnosis, usage=proposal.usage)
    assert added.ok, added.reason


def test_bad_plan_gets_one_retry_then_rejects(fake_openai, gateway, world):
    dispatch(fake_openai, ["not json at all", '{"log_summarization": "only this"}'], [])
    with pytest.raises(ProposalRejected, match="diagnosis failed.*after one retry.*lacks"):
        SelfProposer(gateway.access).propose(ctx_for(world))
    retry = fake_openai.completion_requests[1].messages[-1]["content"]
    assert "could not be used: no JSON object" in retry


def test_agent_that_changes_nothing_is_rejected(fake_openai, gateway, world):
    dispatch(fake_openai, [json.dumps(PLAN)], ["I looked and changed nothing."])
    with pytest.raises(ProposalRejected, match="made no change to its code") as info:
        SelfProposer(gateway.access).propose(ctx_for(world))
    assert info.value.usage.prompt_tokens > 0 and "## Step 1" in info.value.transcript


def test_non_coding_parent_and_missing_sandbox(fake_openai, gateway, world, tmp_path):
    with pytest.raises(ProposalRejected, match="needs a sandbox"):
        SelfProposer(gateway.access).propose(ctx_for(world, sandbox=None))
    ml = tmp_path / "ml"
    shutil.copytree(REPO / "agents" / "metalearner", ml)
    with pytest.raises(ProposalRejected, match="'solve' command"):
        SelfProposer(gateway.access).propose(ctx_for(world, parent=ml))
    assert fake_openai.completions == 0


def test_parse_plan_variants():
    bare = "Sure! " + json.dumps(PLAN) + " Hope it helps {not json}"
    assert parse_plan(bare)["implementation_suggestion"] == PLAN["implementation_suggestion"]
    listed = parse_plan(f"```json\n{json.dumps(PLAN)}\n```")
    assert listed["potential_improvements"] == "- keep more tool output\n- summarise long outputs"
    for text, reason in [("", "empty"), ("{}", "no JSON object"), ("[1, 2]", "no JSON object"),
                         (json.dumps({**PLAN, "problem_description": " "}), "is empty"),
                         ('{"improvement_proposal": "x"', "no JSON object")]:
        with pytest.raises(PlanError, match=reason):
            parse_plan(text)


def test_hostile_agent_cannot_reach_the_host_through_git_or_symlinks(fake_openai, gateway,
                                                                     world, tmp_path):
    marker = tmp_path / "PWNED"
    secret = tmp_path / "host_secret.txt"
    secret.write_text("TOP-SECRET-HOST-DATA\n")
    dispatch(fake_openai, [json.dumps(PLAN)], [
        tool_call("bash", command=f"printf '[core]\\n\\tfsmonitor = touch {marker}\\n' > .git/config"
                                  f" && ln -sf {secret} ../io/out/transcript.md && echo planted"),
        tool_call("editor", command="str_replace", path="tools/bash.py",
                  old_str="MAX_OUTPUT = 12_000", new_str="MAX_OUTPUT = 16_000"),
        "Done.",
    ])
    proposal = SelfProposer(gateway.access).propose(ctx_for(world))
    assert "+MAX_OUTPUT = 16_000" in proposal.diff and ".git" not in proposal.diff
    assert not marker.exists()  # the host's git never read the agent's .git/config
    assert "TOP-SECRET" not in (proposal.transcript or "")  # the symlink was not followed


def test_symlink_in_the_agents_change_is_rejected(fake_openai, gateway, world):
    dispatch(fake_openai, [json.dumps(PLAN)], [
        tool_call("bash", command="ln -s /etc/passwd passwd_link"), "Done."])
    with pytest.raises(ProposalRejected, match="passwd_link is a symlink"):
        SelfProposer(gateway.access).propose(ctx_for(world))
