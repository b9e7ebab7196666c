"""`dgm run` with no endpoint: the run serves the real default model and the gateway fronts it.

Marked ``model`` (and ``slow``): llama.cpp on the CPU with SmolLM2-135M. Success on the
tasks is not required; the path must work end to end: the model's answers are applied,
committed and evaluated, or rejected with the model's actual answer recorded; usage is
metered at a price of 0; the server is stopped with the run.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest

from dgm.archive.store import Archive
from tests.e2e_llm.helpers import run_dgm

ROOT = Path(__file__).resolve().parents[2]


def _server_url(output: str) -> str:
    m = re.search(r"serving at (http://127\.0\.0\.1:\d+)", output.replace("\n", " "))
    assert m, output[-2000:]
    return m.group(1)


def _model_answers(a: Archive, run_id: str) -> list[str]:
    """The model's answers as the gateway recorded them (request/response transcripts)."""
    out = []
    for (text,) in a.query("SELECT text FROM transcripts WHERE run=? AND kind LIKE 'gateway:%'",
                           [run_id]):
        resp = json.loads(text).get("response") or {}
        for ch in resp.get("choices") or []:
            out.append((ch.get("message") or {}).get("content") or "")
    return out


def _check_stopped(output: str, name: str) -> None:
    assert f"local model {name} stopped" in output.replace("\n", " ")
    with pytest.raises(httpx.HTTPError):
        httpx.get(_server_url(output) + "/health", timeout=3)


@pytest.mark.model
@pytest.mark.slow
def test_llm_run_on_icl_with_the_real_local_model(default_model, tmp_path):
    arch = tmp_path / "archive"
    # --wall-time bounds the test: a 135M model's rejected proposals are retried up to
    # 4 x budget + 10 times; whatever it did by then must be recorded as asserted below
    r = run_dgm(["run", "--proposer", "llm", "--children", "2", "--workers", "1",
                 "--max-stages", "1", "--wall-time", "420", "--archive", str(arch)], timeout=1500,
                env={"OPENAI_API_KEY": None})  # no key, no endpoint: the local model
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert f"starting the local model {default_model.name}" in out.replace("\n", " ")
    _check_stopped(out, default_model.name)
    with Archive.open(arch, readonly=True) as a:
        assert a.check() == []
        run_id = a.run_info()["id"]
        rows = a.query("SELECT agent, status, reason, diff FROM proposals WHERE run=? "
                       "AND proposer='llm'", [run_id])
        assert rows, "no proposal was made"
        answers = [t for t in _model_answers(a, run_id) if t.strip()]
        assert answers, "the model's answers were not recorded"
        committed = [ag for ag, st, _, _ in rows if st == "committed"]
        # most of SmolLM2's proposals pick a search-space move from a schema-constrained menu
        # (all 20 of 20 applied in bench/local_model.py): some child must have been committed
        assert committed, [r[2][:200] for r in rows]
        for agent in committed:  # applied, committed and evaluated
            (parent, status), = a.query("SELECT parent, status FROM agents WHERE id=?", [agent])
            assert parent is not None and a.diff(agent).strip()
            if status == "duplicate":
                continue  # the same program as an archived agent: recorded, not evaluated again
            if status in ("proposed", "evaluating"):
                continue  # cut by --wall-time: left for `dgm run --resume`, not scored
            assert a.query("SELECT COUNT(*) FROM evaluations WHERE agent=?", [agent])[0][0] > 0
            assert status in ("admitted", "rejected")
        for _, status, reason, diff in rows:
            if status == "committed":
                continue
            if reason.startswith("pre-check failed"):  # applied, then refused unevaluated
                assert diff and diff.strip(), reason
                continue
            # rejected with the reason and the model's answer
            assert "edits rejected after one retry" in reason or "model call" in reason
            assert "last answer:" in reason or "model call" in reason
        usage = a.query("SELECT model, prompt_tokens, completion_tokens, cost FROM usage "
                        "WHERE run=?", [run_id])
        assert usage and all(m == default_model.name and p > 0 and c > 0 and cost == 0
                             for m, p, c, cost in usage)
        # two proposals at most per child when all goes well; never more calls than 2 per proposal
        assert len(usage) <= 2 * len(rows)


def _one_task_suite(tmp_path: Path, task: str) -> Path:
    suite = tmp_path / "swe-one"
    shutil.copytree(ROOT / "evaluators" / "swe-mini", suite,
                    ignore=shutil.ignore_patterns("__pycache__"))
    text = (suite / "suite.toml").read_text()
    head = text.split("[[stages]]")[0]
    (suite / "suite.toml").write_text(head.replace('name = "swe-mini"', 'name = "swe-one"') +
                                      f'[[stages]]\nname = "one"\nthreshold = 0.0\n'
                                      f'[stages.params]\ntasks = ["{task}"]\n')
    return suite


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.docker
def test_coding_agent_and_one_self_modification_with_the_real_local_model(default_model, tmp_path):
    from dgm.sandbox import docker_available, in_ci
    ok, why = docker_available()
    if not ok:
        if in_ci():
            pytest.fail(f"CI must run this test: {why}")
        pytest.skip(why)
    suite = _one_task_suite(tmp_path, "swemini__paginate-1")
    arch = tmp_path / "archive"
    r = run_dgm(["run", "--domain", "coding", "--proposer", "self", "--suite", str(suite),
                 "--children", "1", "--workers", "1", "--wall-time", "420", "--sandbox", "docker",
                 "--archive", str(arch)], timeout=1500, env={"OPENAI_API_KEY": None})
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    _check_stopped(out, default_model.name)
    with Archive.open(arch, readonly=True) as a:
        assert a.check() == []
        run_id = a.run_info()["id"]
        (seed,), = a.query("SELECT id FROM agents WHERE parent IS NULL")
        # the seed coding agent ran on the task through the real model (the agent's calls
        # are billed to its id) and was graded
        (log,), = a.query("SELECT log FROM evaluations WHERE agent=?", [seed])
        assert log is not None
        agent_calls = a.query("SELECT COUNT(*) FROM usage WHERE run=? AND purpose=?",
                              [run_id, seed])[0][0]
        assert agent_calls >= 1
        # a self-modification: the diagnosis (constrained JSON) by the real model, then the
        # parent agent on its own code; committed and evaluated, or rejected with the reason
        rows = a.query("SELECT agent, status, reason, diagnosis FROM proposals WHERE run=? AND "
                       "proposer='self'", [run_id])
        assert rows, out[-2000:]
        diag = a.query("SELECT COUNT(*) FROM usage WHERE run=? AND purpose LIKE '%:diagnose:%'",
                       [run_id])[0][0]
        assert diag >= 1
        for agent, status, reason, diagnosis in rows:
            if status == "committed":
                assert json.loads(diagnosis)["problem_description"]
                assert a.query("SELECT COUNT(*) FROM evaluations WHERE agent=?", [agent])[0][0] > 0
            else:
                assert reason
        assert all(cost == 0 for (cost,) in a.query("SELECT cost FROM usage WHERE run=?", [run_id]))
