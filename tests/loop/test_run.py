"""``dgm run`` end to end on the fast toy suite, and its bad-input errors."""

import json

import pytest

from dgm.archive.store import Archive
from dgm.archive.searchlog import gain_over

from loop_helpers import DGM, TOY, run_dgm, toy_args


def test_offline_run_commits_the_budget_and_reports_the_best(tmp_path):
    r = run_dgm(toy_args(tmp_path / "a", 6)[:-1])  # without --quiet: the progress output
    assert r.returncode == 0, r.stderr
    assert "best agent" in r.stdout and "dgm tree" in r.stdout and "dgm replay" in r.stdout
    with Archive.open(tmp_path / "a", readonly=True) as a:
        assert a.check() == []
        rows = a.query("SELECT status, score FROM agents WHERE parent IS NOT NULL "
                       "AND status != 'duplicate'")
        assert len(rows) == 6
        assert all(s in ("admitted", "rejected") for s, _ in rows)
        kinds = [e["kind"] for e in a.events()]
        assert kinds[0] == "run_started" and kinds.count("child_committed") == 6
        assert a.run_info()["status"] == "finished"
        stages = {r[0] for r in a.query("SELECT DISTINCT stage FROM evaluations")}
        assert stages == {0, 1}  # the seed clears the gate into stage 2


def test_json_output_and_resume_extends_the_budget(tmp_path):
    r = run_dgm(toy_args(tmp_path / "a", 3, "--json"))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    events = [x["event"] for x in lines]
    assert "start" in events and events[-1] == "summary" and events.count("child") >= 3
    assert lines[-1]["children"] == 3 and lines[-1]["status"] == "finished"
    r = run_dgm([DGM, "run", "--archive", str(tmp_path / "a"), "--children", "5", "--json", "--unsafe"])
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.splitlines()[-1])
    assert summary["children"] == 5
    with Archive.open(tmp_path / "a", readonly=True) as a:
        assert a.query("SELECT COUNT(*) FROM agents WHERE parent IS NOT NULL "
                       "AND status != 'duplicate'")[0][0] == 5
        assert [e["kind"] for e in a.events(kind="run_resumed")] == ["run_resumed"]


@pytest.mark.parametrize("schedule", ["generational", "async"])
def test_schedules_and_strategies(tmp_path, schedule):
    for strategy in ("greedy", "hgm", "random", "weighted", "score", "dgm2025", "qd"):
        r = run_dgm(toy_args(tmp_path / f"{schedule}-{strategy}", 4, "--schedule", schedule,
                             "--selection", strategy, "--workers", "2"))
        assert r.returncode == 0, r.stderr
        with Archive.open(tmp_path / f"{schedule}-{strategy}", readonly=True) as a:
            assert a.query("SELECT COUNT(*) FROM agents WHERE parent IS NOT NULL "
                           "AND status != 'duplicate'")[0][0] == 4
            assert a.check() == []


def test_keep_better_rejects_children_confidently_below_the_seed(tmp_path):
    r = run_dgm(toy_args(tmp_path / "a", 8, "--admission", "keep_better", "--seed", "3"))
    assert r.returncode == 0, r.stderr
    with Archive.open(tmp_path / "a", readonly=True) as a:
        seed = a.query("SELECT id FROM agents WHERE parent IS NULL")[0][0]
        verdicts = set()
        for aid, status, score, reason in a.query(
                "SELECT id, status, score, reason FROM agents WHERE parent IS NOT NULL "
                "AND status IN ('admitted', 'rejected')"):
            if not score:
                continue  # scored 0 on stage 1: rejected before keep_better
            iv = gain_over(a, aid, seed)  # the paired per-task interval the rule used
            assert (status == "rejected") == (iv.hi < 0), (aid, status, iv)
            if status == "rejected":
                assert "confidently worse than the seed" in reason
            verdicts.add(status)
        assert verdicts, "no child reached keep_better"


@pytest.mark.parametrize("args, message", [
    (["--selection", "best"], "selection: Input should be 'dgm', 'dgm2025', 'score', 'greedy', 'random', 'hgm', 'weighted' or 'qd'"),
    (["--proposer", "magic"], "proposer: Input should be 'mutation', 'llm' or 'self'"),
    (["--suite", "nonexistent"], "unknown suite 'nonexistent'; known suites:"),
    (["--seed-agent", "/tmp"], "/tmp is not an agent: it has no agent.toml"),
    (["--proposer", "llm"], "the local model smollm2-135m is not installed"),
    (["--workers", "0"], "workers: Input should be greater than or equal to 1"),
])
def test_bad_input_is_one_line_and_starts_nothing(tmp_path, args, message, monkeypatch):
    monkeypatch.setenv("DGM_MODEL_DIR", str(tmp_path / "no-models"))  # no endpoint, no model
    arch = tmp_path / "a"
    r = run_dgm([DGM, "run", "--archive", str(arch), "--suite", str(TOY / "suite"),
                 "--seed-agent", str(TOY / "agent"), "--unsafe", *args])
    assert r.returncode != 0
    assert message in r.stderr.replace("\n", " ") or message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) <= 2


def test_invalid_dgm_toml_names_the_key(tmp_path):
    cfg = tmp_path / "dgm.toml"
    cfg.write_text('[run]\nselection = "dgm"\nschedule = "sometimes"\n')
    r = run_dgm([DGM, "run", "--config", str(cfg), "--archive", str(tmp_path / "a")])
    assert r.returncode != 0
    assert "schedule: Input should be 'async' or 'generational'" in r.stderr
    assert not (tmp_path / "a").exists()
    cfg.write_text('[run]\ncolour = "blue"\n')
    r = run_dgm([DGM, "run", "--config", str(cfg), "--archive", str(tmp_path / "a")])
    assert "colour: unknown key; allowed keys:" in r.stderr


def test_sandbox_unsafe_needs_the_explicit_flag(tmp_path):
    r = run_dgm([DGM, "run", "--archive", str(tmp_path / "a"), "--suite", str(TOY / "suite"),
                 "--seed-agent", str(TOY / "agent"), "--sandbox", "unsafe"])
    assert r.returncode != 0 and "--unsafe" in r.stderr


def test_coding_domain_without_endpoint_fails_at_once(tmp_path, monkeypatch):
    # no endpoint and no local model installed (with one, the run would serve it)
    monkeypatch.setenv("DGM_MODEL_DIR", str(tmp_path / "no-models"))
    r = run_dgm([DGM, "run", "--domain", "coding", "--archive", str(tmp_path / "a")], timeout=60)
    assert r.returncode != 0
    assert "no endpoint is configured" in r.stderr and "not installed" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "a").exists()
