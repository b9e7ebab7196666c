"""Crash safety and determinism of the loop: SIGKILL at random moments, resume."""

import random
import signal
import subprocess
import time

import pytest

from dgm.archive.store import Archive

from loop_helpers import ROOT, run_dgm, toy_args


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_loses_and_duplicates_nothing(tmp_path):
    arch, budget = tmp_path / "a", 30
    rng = random.Random(20261129)
    kills, phases, finished = 0, set(), False
    for attempt in range(80):
        args = toy_args(arch, budget, "--workers", "2")  # the user re-runs the same command
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if kills < 10:
            # Mostly kill once the run is under way (start-up time varies with load);
            # every fourth attempt, at any moment from the start, creation included.
            t0 = time.monotonic()
            while attempt % 4 and proc.poll() is None and not (arch / "dgm.db").exists() \
                    and time.monotonic() - t0 < 60:
                time.sleep(0.02)
            delay = rng.uniform(0.0, 0.8) if attempt % 4 else rng.uniform(0.0, 1.5)
        try:
            proc.wait(timeout=delay if kills < 10 else 120)  # after ten kills, run to the end
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
        children = a.query("SELECT id, status FROM agents WHERE parent IS NOT NULL "
                           "AND status != 'duplicate'")
        assert len(children) == budget  # duplicates of earlier agents cost nothing and do not count
        dups = [r[0] for r in a.query("SELECT id FROM agents WHERE status='duplicate'")]
        assert all(a.query("SELECT COUNT(*) FROM evaluations WHERE agent=?", [d])[0][0] == 0
                   for d in dups)
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
