"""Suite.evaluate end to end: real agent programs in the sandbox, diff capture, grading."""

from __future__ import annotations

from pathlib import Path

import pytest

from dgm.sandbox.base import Mount
from dgm.sandbox.local import LocalSandbox
from dgm.suites import EvalContext, StageSpec

from .agents import make_agent
from .conftest import HUMANEVAL, SWE

IDS = ["swemini__kvparse-1", "swemini__paginate-1"]


def small(suite, ids, seconds=120):
    """The same suite restricted to ``ids`` in one stage, with an agent time limit."""
    spec = suite.spec.model_copy(deep=True)
    spec.stages = [StageSpec(name="test", params={"tasks": ids})]
    spec.limits = spec.limits.model_copy(update={"seconds": seconds})
    return type(suite)(spec)


def ctx(sandbox, tmp_path: Path, **kw) -> EvalContext:
    lines: list[str] = []
    c = EvalContext(sandbox=sandbox, workdir=tmp_path / "work", log=lines.append, **kw)
    c.workdir.mkdir()
    return c


def gold_answers(ids):
    return {SWE.tasks[t].problem_statement: SWE.tasks[t].gold_patch for t in ids}


def test_an_agent_that_fixes_the_bugs_resolves_them(coding_sandbox, tmp_path):
    agent = make_agent(tmp_path, "replay", gold_answers(IDS))
    out = small(SWE, IDS).evaluate(agent, 0, ctx(coding_sandbox, tmp_path))
    assert [(r.task_id, r.resolved, r.score) for r in out.results] == [(t, True, 1.0) for t in IDS]
    assert out.score == 1.0
    assert "2/2 resolved" in out.artifacts["summary.md"]
    assert set(out.artifacts) == {"summary.md"}  # failure reports only for unresolved tasks
    assert out.image_digest  # which software graded it, for the evaluation record
    assert all("exited with code 0" in r.log for r in out.results)


def test_an_agent_that_does_nothing_resolves_nothing(coding_sandbox, tmp_path):
    agent = make_agent(tmp_path, "idle")
    out = small(SWE, IDS).evaluate(agent, 0, ctx(coding_sandbox, tmp_path))
    assert [r.resolved for r in out.results] == [False, False] and out.score == 0.0
    assert "empty_patch (2)" in out.artifacts["summary.md"]
    report = out.artifacts[f"{IDS[0]}.md"]
    assert "giving up" in report                      # the agent's stdout tail
    assert "parse_kv crashes" in report               # the problem statement head
    assert "FAIL_TO_PASS not passing" in report       # the grading verdict


def test_the_engines_extra_mounts_and_env_reach_the_agent(coding_sandbox, tmp_path):
    extra = tmp_path / "gateway"
    extra.mkdir()
    (extra / "info.txt").write_text("socket-lives-here\n")
    agent = make_agent(tmp_path, "idle")
    c = ctx(coding_sandbox, tmp_path, env={"EXTRA_FILE": "/gateway/info.txt"},
            mounts=[Mount(extra, "/gateway")])
    out = small(SWE, IDS[:1]).evaluate(agent, 0, c)
    assert "EXTRA:socket-lives-here" in out.artifacts[f"{IDS[0]}.md"]


def test_exit_code_is_ignored_and_the_diff_cannot_be_hidden(coding_sandbox, tmp_path):
    """The saboteur exits 3, commits its work (so `git diff HEAD` is empty), adds a
    test file (ignored) and makes its transcript a symlink to /etc/passwd."""
    agent = make_agent(tmp_path, "saboteur", gold_answers(IDS[:1]))
    c = ctx(coding_sandbox, tmp_path)
    out = small(SWE, IDS).evaluate(agent, 0, c)
    link = c.workdir / "swe-mini-stage0" / "agent" / IDS[1] / "scratch" / "out" / "transcript.md"
    assert link.is_symlink()  # the trap really reached the host
    fixed, other = out.results
    assert fixed.resolved, fixed.log
    assert "exited with code 3" in fixed.log
    assert not other.resolved
    report = out.artifacts[f"{IDS[1]}.md"]
    assert "SABOTEUR-STDOUT" in report
    assert "SAFE-NOTE" in report               # plain files in out/ are read ...
    assert "root:x:0:0" not in report          # ... nothing through a symlink


def test_work_done_before_a_timeout_is_still_graded(coding_sandbox, tmp_path):
    agent = make_agent(tmp_path, "sleeper", gold_answers(IDS[:1]))
    out = small(SWE, IDS[:1], seconds=4).evaluate(agent, 0, ctx(coding_sandbox, tmp_path))
    (r,) = out.results
    assert r.resolved, r.log
    assert "agent timed out" in r.log


def test_a_directory_that_is_no_agent_scores_zero_without_raising(coding_sandbox, tmp_path):
    (tmp_path / "empty").mkdir()
    out = small(SWE, IDS).evaluate(tmp_path / "empty", 0, ctx(coding_sandbox, tmp_path))
    assert [r.score for r in out.results] == [0.0, 0.0]
    assert all("has no agent.toml" in r.log for r in out.results)


def test_the_agent_reaches_the_model_through_ctx_env(fake_openai, tmp_path):
    """ctx.env and ctx.network pass through to the agent (unsafe backend: it can reach
    127.0.0.1; the real backends reach the gateway through their own channel)."""
    answer = {SWE.tasks[t].problem_statement: SWE.tasks[t].gold_patch for t in IDS}
    fake_openai.fallback = lambda request: answer[request["messages"][-1]["content"]]
    agent = make_agent(tmp_path, "llm")
    c = ctx(LocalSandbox(), tmp_path, env={"OPENAI_BASE_URL": fake_openai.url, "OPENAI_API_KEY": "proxy"})
    out = small(SWE, IDS).evaluate(agent, 0, c)
    assert [r.resolved for r in out.results] == [True, True], [r.log for r in out.results]
    assert len(fake_openai.completion_requests) == 2


def test_humaneval_evaluate_with_a_solving_agent(coding_sandbox, tmp_path):
    ids = ["HumanEval/0", "HumanEval/16", "HumanEval/32"]
    answers = {HUMANEVAL.tasks[t].problem: HUMANEVAL.tasks[t].canonical_patch() for t in ids[:2]}
    agent = make_agent(tmp_path, "replay", answers)
    out = small(HUMANEVAL, ids).evaluate(agent, 0, ctx(coding_sandbox, tmp_path))
    assert [(r.task_id, r.resolved) for r in out.results] == [(ids[0], True), (ids[1], True),
                                                              (ids[2], False)]
    assert "failed the hidden tests" in out.artifacts["HumanEval_32.md"]
    assert out.image_digest


@pytest.mark.parametrize("stage, n", [(0, 5), (1, 22)])
def test_swe_stage_sizes(stage, n):
    assert len(SWE.stage_task_ids(stage)) == n


SEED_AGENT = Path(__file__).resolve().parents[2] / "agents" / "coding"


@pytest.mark.skipif(not (SEED_AGENT / "agent.toml").is_file(), reason="no seed coding agent")
def test_the_seed_agent_solves_a_task_through_the_gateway(gateway, fake_openai, coding_sandbox, tmp_path):
    """The project's seed agent (agents/coding), run exactly as the engine runs it: the
    gateway's socket mounted, its label key in the env, a scripted model behind it."""
    from tests.fakes.fake_openai import tool_call

    tid = IDS[0]
    fake_openai.push(tool_call("bash", command="git apply <<'EOF'\n" + SWE.tasks[tid].gold_patch + "EOF\n"),
                     "I fixed parse_kv so values may contain '=' and quoted separators.")
    access = gateway.access
    c = ctx(coding_sandbox, tmp_path, env=access.sandbox_env("agent-0"), mounts=access.sandbox_mounts())
    out = small(SWE, [tid]).evaluate(SEED_AGENT, 0, c)
    (r,) = out.results
    assert r.resolved, r.log
    assert len(fake_openai.completion_requests) == 2
    assert "parse_kv crashes" in fake_openai.completion_requests[0].json["messages"][-1]["content"]
