"""One full self-improvement iteration of the coding agent through the real `dgm run`.

Real archive, real Docker sandbox, real gateway; only the hosted model is the
scripted fake server. The seed agent works on swe-mini stage 1 through its
tools (fixes one task with its editor and runs the tests; prints its environment
in another, then gives up), the diagnosis reads a failed task, the agent edits its
own code in the sandbox, the child is committed and evaluated the same way.
Then: a budget that runs out in the middle of an evaluation.
"""

from __future__ import annotations

import json

import pytest

from dgm.archive.store import Archive
from tests.e2e_llm.helpers import SECRET, db_dump, run_dgm
from tests.e2e_llm.scripted import PLAN, CodingModel, gold_edits
from tests.fakes.fake_openai import FakeOpenAI

STAGE1 = {"swemini__kvparse-1", "swemini__paginate-1", "swemini__monthmath-1",
          "swemini__memoize-1", "swemini__wordfreq-1"}


@pytest.mark.docker
@pytest.mark.slow
def test_one_self_improvement_iteration_in_docker(need_docker, tmp_path):
    model = CodingModel(solve=("swemini__paginate-1",), probe_env="swemini__kvparse-1")
    arch = tmp_path / "archive"
    with FakeOpenAI(fallback=model) as fake:
        r = run_dgm(["run", "--domain", "coding", "--proposer", "self", "--model-url", fake.url,
                     "--children", "1", "--max-stages", "1", "--sandbox", "docker",
                     "--workers", "1", "--archive", str(arch)], timeout=900)
        requests = list(fake.requests)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "sandbox: docker" in r.stdout + r.stderr

    with Archive.open(arch, readonly=True) as a:
        assert a.check() == []
        assert a.run_info()["status"] == "finished"
        (seed, seed_status), = a.query("SELECT id, status FROM agents WHERE parent IS NULL")
        (child, child_status, proposer), = a.query(
            "SELECT id, status, proposer FROM agents WHERE parent IS NOT NULL")
        assert (seed_status, child_status, proposer) == ("admitted", "admitted", "self")

        # per-task evaluations of both agents on stage 1; the agent really fixed paginate
        for agent in (seed, child):
            rows = {t: (res, log) for t, res, log in a.query(
                "SELECT task, resolved, log FROM evaluations WHERE agent=? AND suite='swe-mini' "
                "AND stage=0", [agent])}
            assert set(rows) == STAGE1
            assert {t for t, (res, _) in rows.items() if res} == {"swemini__paginate-1"}, rows

        # the child is the agent's own edit of its code, as planned by the diagnosis
        diff = a.diff(child)
        assert "-MAX_OUTPUT = 12_000\n+MAX_OUTPUT = 20_000" in diff
        assert "diff --git a/tools/bash.py b/tools/bash.py" in diff and "pycache" not in diff
        prop, = a.proposals(child)
        diagnosis = json.loads(prop["diagnosis"])
        assert diagnosis["improvement_proposal"] == PLAN["improvement_proposal"]
        assert diagnosis["task"] in STAGE1 - {"swemini__paginate-1"}
        assert prop["proposer"] == "self" and prop["model"] == "gpt-4o-mini"
        assert prop["prompt_tokens"] > 0 and prop["cost"] > 0

        # usage: the seed's and the child's evaluations, the diagnosis and the self run
        usage = a.query("SELECT agent, purpose, prompt_tokens, cost FROM usage")
        purposes = {p.split(":")[1] if ":" in p else "eval:" + p for _, p, _, _ in usage}
        assert purposes == {"eval:" + seed, "eval:" + child, "diagnose", "self"}
        assert all(pt > 0 and cost > 0 for _, _, pt, cost in usage)
        proposal_cost = sum(c for ag, p, _, c in usage if ":" in p)
        assert prop["cost"] == pytest.approx(proposal_cost, rel=1e-6)
        assert {ag for ag, _, _, _ in usage} == {seed, child}
        kinds = {k for k, in a.query("SELECT kind FROM transcripts")}
        assert "proposal" in kinds and f"gateway:{child}" in kinds
        (self_run,), = a.query("SELECT text FROM transcripts WHERE agent=? AND kind='proposal'",
                               [child])
        assert "## diagnosis answer (attempt 1)" in self_run and "## self-modification run" in self_run
        assert "OPENAI_API_KEY=dgm-" in self_run  # its own environment, printed in the sandbox
        assert " passed" in self_run  # it ran its own tests after the edit

        # the agent ran `env` in the sandbox: its transcript shows the label key, never the real one
        report = a.artifacts(seed)["swe-mini/0/swemini__kvparse-1.md"]
        assert "DGM_GATEWAY_SOCKET=/run/dgm-gateway/" in report and "OPENAI_API_KEY=dgm-" in report
    env_outputs = [m["content"] for q in requests for m in q.messages
                   if m.get("role") == "tool" and "DGM_GATEWAY_SOCKET=" in str(m.get("content"))]
    assert env_outputs and all("OPENAI_API_KEY=dgm-" in o for o in env_outputs)
    # the real key went only from the gateway to the model server, never anywhere else
    assert all(q.authorization == f"Bearer {SECRET}" for q in requests)
    assert not any(SECRET in json.dumps(q.json) for q in requests)
    assert SECRET not in db_dump(arch) and SECRET not in r.stdout + r.stderr
    assert model.seen["diagnose"] == 1 and model.seen["self"] == 4
    steps = len(gold_edits("swemini__paginate-1")) + 2  # the edits, the tests, the summary
    with Archive.open(arch, readonly=True) as a:
        # a possible best and the seed are confirmed on more seeds, evaluated as their stage
        # was: through the model with their own key, so the agent solves the task again
        confirmed = a.query("SELECT agent, seed, score FROM confirmations WHERE task=?",
                            ["swemini__paginate-1"])
    assert confirmed and all(score == 1.0 for _, _, score in confirmed), confirmed
    assert {ag for ag, _, _ in confirmed} == {seed, child}
    runs = 2 + len(confirmed)  # the stage evaluations of seed and child, then the confirmations
    assert model.seen["task:swemini__paginate-1"] == runs * steps

    r = run_dgm(["check", "--archive", str(arch)], timeout=60)
    assert r.returncode == 0 and "ok: 2 agents" in r.stdout


@pytest.mark.docker
@pytest.mark.slow
def test_budget_spent_during_an_evaluation_is_not_recorded_as_the_agents_score(need_docker,
                                                                               tmp_path):
    """Calls cost $1 each and the budget is $8: with each call's worst case reserved (its
    body's bytes as prompt tokens, ~$4 here) a few calls fit, then one no longer does and
    the seed's stage is cut. That stage must not become the seed's score: it is re-run in
    full when the run is resumed with a bigger budget."""
    model = CodingModel(solve=("swemini__paginate-1",), probe_env="swemini__kvparse-1",
                        prompt_tokens=1000)
    arch = tmp_path / "archive"

    def toml(budget: float):
        path = tmp_path / f"budget-{budget:g}.toml"
        path.write_text(f'[run]\ndomain = "coding"\nsandbox = "docker"\nworkers = 1\n'
                        f'max_stages = 1\nchildren = 0\n\n[run.model]\nbase_url = "{fake.url}"\n'
                        f'budget_usd = {budget}\nmax_output_tokens = 50\n'
                        f'[run.model.prices.gpt-4o-mini]\n'
                        f'prompt_per_1k = 1.0\ncompletion_per_1k = 1.0\n')
        return path

    with FakeOpenAI(fallback=model) as fake:
        r = run_dgm(["run", "--config", str(toml(8)), "--quiet", "--archive", str(arch)],
                    timeout=600)
        # (the exit status is the CLI's "was any agent admitted" verdict: none was yet)
        assert "run budget-spent; resume with: dgm run --archive" in r.stdout, r.stdout + r.stderr
        assert "model budget spent" in r.stderr and "cut short by the model budget" in r.stderr
        with Archive.open(arch, readonly=True) as a:
            assert a.check() == [] and a.run_info()["status"] == "budget-spent"
            (seed, status), = a.query("SELECT id, status FROM agents")
            assert a.query("SELECT COUNT(*) FROM evaluations")[0][0] == 0, \
                a.query("SELECT task, resolved, log FROM evaluations")
            assert status == "evaluating"
            cut, = a.events(kind="stage_cut")
            assert cut["agent"] == seed and "budget" in cut["data"]["reason"]
            spent, calls = a.query("SELECT SUM(cost), COUNT(*) FROM usage")[0]
            assert 1 <= calls < 8 and spent == pytest.approx(calls * 1.0) and spent <= 8
        r = run_dgm(["run", "--archive", str(arch), "--config", str(toml(100)), "--quiet"],
                    timeout=600)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    with Archive.open(arch, readonly=True) as a:
        assert a.check() == [] and a.run_info()["status"] == "finished"
        assert a.query("SELECT status FROM agents")[0][0] == "admitted"
        resolved = {t for t, in a.query("SELECT task FROM evaluations WHERE resolved=1")}
        assert resolved == {"swemini__paginate-1"}
        assert a.query("SELECT COUNT(*) FROM evaluations")[0][0] == len(STAGE1)
