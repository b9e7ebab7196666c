"""A run whose model budget runs out stops cleanly, and a resume with a bigger budget goes on;
a model run without its API key fails at once with one line."""

from __future__ import annotations

import pytest

from dgm.archive.store import Archive
from tests.e2e_llm.helpers import TOY, run_dgm
from tests.e2e_llm.scripted import ProposerModel, search_replace
from tests.fakes.fake_openai import FakeOpenAI

PRICE = 1.0  # USD per 1k tokens, prompt and completion: a toy proposal costs about $1
# The gateway reserves each call's worst case (its body's bytes as prompt tokens plus the
# output cap) before forwarding it, so a budget must hold at least one worst case (~$4).
SMALL = 6.0


def config(path, url: str, budget_usd: float):
    path.write_text(f"""[run]
proposer = "llm"
suites = ["{TOY / 'suite'}"]
seed_agent = "{TOY / 'agent'}"
workers = 1

[run.model]
base_url = "{url}"
propose_model = "fake-model"
diagnose_model = "fake-model"
agent_model = "fake-model"
budget_usd = {budget_usd}
max_output_tokens = 200

[run.model.prices.fake-model]
prompt_per_1k = {PRICE}
completion_per_1k = {PRICE}
""")
    return path


def nudge(request: dict) -> str:
    """A valid edit of whatever parent the proposer shows: move the offset a little."""
    prompt = request["messages"][1]["content"]
    line = next(ln for ln in prompt.splitlines() if ln.startswith("offset = "))
    value = float(line.split("=")[1].split("#")[0])
    return search_replace("predict.py", line, f"offset = {value + 0.25}", "move the offset")


def test_budget_exhaustion_stops_cleanly_and_resume_with_more_budget_continues(tmp_path):
    arch = tmp_path / "archive"
    model = ProposerModel([(nudge, None)] * 20)
    with FakeOpenAI(fallback=model) as fake:
        small = config(tmp_path / "small.toml", fake.url, SMALL)
        r = run_dgm(["run", "--config", str(small), "--children", "8", "--unsafe", "--quiet",
                     "--archive", str(arch)], timeout=180)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        assert "model budget spent (the run's budget" in r.stderr, r.stderr[-3000:]
        assert "run budget-spent; resume with: dgm run --archive" in r.stdout
        calls = len(fake.completion_requests)
        with Archive.open(arch, readonly=True) as a:
            assert a.check() == [] and a.run_info()["status"] == "budget-spent"
            spent = a.query("SELECT SUM(cost), COUNT(*) FROM usage")[0]
            print(f"\nspent ${spent[0]:.4f} of ${SMALL:g} over {spent[1]} calls")
            assert 0 < spent[0] <= SMALL and spent[1] == calls  # reservations: never over
            statuses = [s for s, in a.query("SELECT status FROM agents WHERE parent IS NOT NULL")]
            assert 1 <= len(statuses) < 8
            assert set(statuses) <= {"admitted", "rejected"}  # every child terminal
            started = {e["data"]["job"] for e in a.events(kind="job_started")}
            done = {e["data"]["job"] for e in a.events(kind="job_done")}
            assert started and started <= done  # no job left half-done
            committed = len(statuses)

        # resuming with the same budget starts nothing: the run's spending is remembered
        r = run_dgm(["run", "--archive", str(arch), "--config", str(small), "--unsafe", "--quiet"],
                    timeout=120)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        assert "model usage so far in this run: $" in r.stderr and "model budget spent" in r.stderr
        assert len(fake.completion_requests) == calls

        # a bigger budget in the config continues the same run
        big = config(tmp_path / "big.toml", fake.url, 1000.0)
        r = run_dgm(["run", "--archive", str(arch), "--config", str(big), "--unsafe", "--quiet"],
                    timeout=180)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        assert f"run.model.budget_usd is now 1000.0 (was {SMALL})" in r.stderr
    with Archive.open(arch, readonly=True) as a:
        assert a.check() == [] and a.run_info()["status"] == "finished"
        rows = a.query("SELECT status FROM agents WHERE parent IS NOT NULL AND status != 'duplicate'")
        assert len(rows) == 8 > committed
        assert {s for s, in rows} <= {"admitted", "rejected"}
        assert a.query("SELECT COUNT(DISTINCT id) FROM runs")[0][0] == 1
        assert a.query("SELECT SUM(cost) FROM usage")[0][0] > spent[0]
    r = run_dgm(["check", "--archive", str(arch)], timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("args", [
    ["--domain", "coding"],
    ["--proposer", "llm", "--suite", str(TOY / "suite"), "--seed-agent", str(TOY / "agent"),
     "--unsafe"],
])
def test_model_run_without_the_api_key_fails_at_once_in_one_line(tmp_path, args):
    arch = tmp_path / "archive"
    r = run_dgm(["run", *args, "--model-url", "http://127.0.0.1:9/v1", "--archive", str(arch)],
                env={"OPENAI_API_KEY": None}, timeout=60)
    assert r.returncode != 0
    err = r.stderr.strip()
    assert "$OPENAI_API_KEY is not set" in err and "api_key_env" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert not arch.exists()
