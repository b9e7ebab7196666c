"""Crash safety and determinism of the loop: SIGKILL at random moments, resume."""

import random
import signal
import subprocess

import pytest

from dgm.archive import Archive

from loop_helpers import DGM, ROOT, run_dgm, toy_args


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_loses_and_duplicates_nothing(tmp_path):
    arch, budget = tmp_path / "a", 30
    rng = random.Random(20261129)
    kills, phases, finished = 0, set(), False
    for attempt in range(80):
        args = toy_args(arch, budget, "--workers", "2")  # the user re-runs the same command
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            # After ten kills, let it run to the end.
            proc.wait(timeout=rng.uniform(0.4, 1.3) if kills < 10 else 120)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            if not (arch / "dgm.db").exists():
                phases.add("creating")
                continue
            with Archive.open(arch, readonly=True) as a:
                last = a.query("SELECT kind FROM events ORDER BY seq DESC LIMIT 1")
                phases.add(last[0][0] if last else "created")
            continue
        assert proc.returncode == 0, proc.stderr.read().decode()[-3000:]
        finished = True
        break
    assert finished and kills >= 10
    assert len(phases) >= 2, phases  # killed in different phases (proposing, evaluating, ...)
    with Archive.open(arch, readonly=True) as a:
        assert a.check() == []
        children = a.query("SELECT id, status FROM agents WHERE parent IS NOT NULL")
        assert len(children) == budget
        assert all(s in ("admitted", "rejected", "failed") for _, s in children)
        dup_jobs = a.query("SELECT job, COUNT(*) FROM proposals WHERE agent IS NOT NULL "
                           "AND job IS NOT NULL GROUP BY job HAVING COUNT(*) > 1")
        assert dup_jobs == []
        for aid, status in children:  # every child was evaluated (failed ones say why)
            n = a.query("SELECT COUNT(*) FROM evaluations WHERE agent=?", [aid])[0][0]
            assert n > 0 or status == "failed"
        assert a.run_info()["status"] == "finished"


def _lineage(arch):
    with Archive.open(arch, readonly=True) as a:
        return a.query("SELECT id, parent, summary, status, score FROM agents ORDER BY seq"), \
            a.query("SELECT agent, suite, stage, task, score FROM evaluations ORDER BY agent, stage, task")


def test_same_seed_same_lineage_and_scores(tmp_path):
    for name in ("one", "two"):
        r = run_dgm(toy_args(tmp_path / name, 8, "--workers", "1", "--seed", "11"))
        assert r.returncode == 0, r.stderr
    assert _lineage(tmp_path / "one") == _lineage(tmp_path / "two")
    r = run_dgm(toy_args(tmp_path / "other", 8, "--workers", "1", "--seed", "12"))
    assert _lineage(tmp_path / "other")[0] != _lineage(tmp_path / "one")[0]
