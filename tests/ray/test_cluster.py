"""`dgm run --executor ray` against a real Ray cluster this module starts itself
(a head node and a worker node on 127.0.0.1): same archive as locally, and
killing workers, a node or the driver mid-evaluation loses nothing."""

import math
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from cluster_helpers import BROKEN, ROOT, SLOW, TOY, dgm_args, free_port, running
from dgm.archive.store import Archive

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def run(args, env, timeout=240):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


def ray_flags(cluster):
    return ["--executor", "ray", "--ray-address", cluster.address]


def lineage(arch):
    with Archive.open(arch, readonly=True) as a:
        return (a.query("SELECT id, parent, summary, status, score FROM agents ORDER BY seq"),
                a.query("SELECT agent, suite, stage, task, score, resolved FROM evaluations "
                        "ORDER BY agent, stage, task"))


def assert_invariants(arch, budget):
    """What the local loop tests demand of a finished run (tests/loop/test_resilience.py)."""
    with Archive.open(arch, readonly=True) as a:
        assert a.check() == []
        children = a.query("SELECT id, status, reason FROM agents WHERE parent IS NOT NULL "
                           "AND status != 'duplicate'")  # duplicates are not evaluated, not counted
        assert len(children) == budget
        assert all(s in ("admitted", "rejected", "failed") for _, s, _ in children)
        assert a.query("SELECT job, COUNT(*) FROM proposals WHERE agent IS NOT NULL AND job IS NOT NULL "
                       "GROUP BY job HAVING COUNT(*) > 1") == []
        for aid, status, reason in children:  # every child was evaluated, or says why not
            n = a.query("SELECT COUNT(*) FROM evaluations WHERE agent=?", [aid])[0][0]
            assert n > 0 or (status == "failed" and reason)
        assert a.run_info()["status"] == "finished"
        return {aid: (status, reason) for aid, status, reason in children}


def test_toy_run_on_the_cluster_equals_the_local_run(cluster, tmp_path):
    common = ("--workers", "1", "--seed", "5")
    r = run(dgm_args(tmp_path / "local", TOY / "suite", TOY / "agent", 6, *common), cluster.env)
    assert r.returncode == 0, r.stderr
    r = run(dgm_args(tmp_path / "ray", TOY / "suite", TOY / "agent", 6, *common, *ray_flags(cluster)),
            cluster.env)
    assert r.returncode == 0, r.stderr
    assert_invariants(tmp_path / "ray", 6)
    assert lineage(tmp_path / "ray") == lineage(tmp_path / "local")
    with Archive.open(tmp_path / "ray", readonly=True) as a:
        stages = a.query("SELECT DISTINCT agent, stage FROM evaluations")
        where = a.query("SELECT agent, stage, text FROM artifacts WHERE name='evaluated_on'")
    assert len(where) == len(stages) and all("ray node" in text for _, _, text in where)
    with Archive.open(tmp_path / "local", readonly=True) as a:
        assert a.query("SELECT COUNT(*) FROM artifacts WHERE name='evaluated_on'")[0][0] == 0


def test_harness_exception_is_recorded_and_not_retried(cluster, tmp_path):
    cluster.clear_log()
    r = run(dgm_args(tmp_path / "a", BROKEN, TOY / "agent", 2, *ray_flags(cluster)), cluster.env)
    assert "the seed failed its first stage" in r.stderr + r.stdout, r.stderr
    with Archive.open(tmp_path / "a", readonly=True) as a:
        assert a.check() == []
        status, reason = a.query("SELECT status, reason FROM agents WHERE parent IS NULL")[0]
    assert status == "failed"
    assert "RuntimeError: the harness broke on purpose" in reason and "ray" not in reason.lower()
    assert len([e for e in cluster.evals() if e.event == "start"]) == 1  # one attempt, no retry


def _failed(arch):
    if not (arch / "dgm.db").exists():
        return []
    with Archive.open(arch, readonly=True) as a:
        return a.query("SELECT id, reason FROM agents WHERE status='failed'")


def _wait(pred, timeout=120, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_lost_evaluation_without_retries_is_failed_then_driver_kill_resumes(cluster, tmp_path):
    """max_retries=0: a killed worker fails its agent with the reason; the run goes
    on; then the driver itself is killed mid-evaluation and `dgm run` resumes."""
    cluster.clear_log()
    arch, budget = tmp_path / "a", 5
    args = dgm_args(arch, SLOW / "suite", SLOW / "agent", budget, "--workers", "2", *ray_flags(cluster))
    driver = subprocess.Popen(args, cwd=ROOT, env={**cluster.env, "DGM_RAY_MAX_RETRIES": "0"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # The first evaluation is the seed's (children are proposed after it; the seed's
        # confirmation re-runs share its code): kill a child's.
        evs = cluster.wait_for(lambda e: [x for x in running(e) if x.code != e[0].code],
                               what="a child's evaluation")
        victim = [x for x in running(evs) if x.code != evs[0].code][0]
        os.kill(victim.pid, signal.SIGKILL)
        _wait(lambda: _failed(arch), what="the lost evaluation to be recorded as failed")
        evs = cluster.wait_for(lambda e: [x for x in running(e) if x.pid != victim.pid and x.t > victim.t],
                               what="another evaluation after the failure")
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    killed_at = time.time()
    with Archive.open(arch, readonly=True) as a:
        assert a.query("SELECT COUNT(*) FROM agents WHERE status='evaluating'")[0][0] >= 1
    r = run(dgm_args(arch, SLOW / "suite", SLOW / "agent", budget, *ray_flags(cluster)), cluster.env)
    assert r.returncode == 0, r.stderr
    children = assert_invariants(arch, budget)
    failed = [(s, why) for s, why in children.values() if s == "failed"]
    assert len(failed) == 1, children
    assert "EvaluationLost: lost after 1 attempt(s)" in failed[0][1] and "died" in failed[0][1]
    with Archive.open(arch, readonly=True) as a:
        assert [e["kind"] for e in a.events(kind="run_resumed")] == ["run_resumed"]
        assert a.events(kind="requeued")  # the driver's in-flight evaluation was re-run
    # the evaluations cut off by the driver's death were started again after it
    assert any(e.event == "end" and e.t > killed_at for e in cluster.evals())


def test_killing_a_worker_process_and_then_a_node_loses_nothing(cluster, tmp_path):
    """Default retries: both lost evaluations run again elsewhere; no agent fails."""
    cluster.clear_log()
    arch, budget = tmp_path / "a", 4
    args = dgm_args(arch, SLOW / "suite", SLOW / "agent", budget, "--workers", "2", *ray_flags(cluster))
    driver = subprocess.Popen(args, cwd=ROOT, env=cluster.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    killed = []
    try:
        evs = cluster.wait_for(lambda e: running(e), what="an evaluation")
        killed.append(running(evs)[0])
        os.kill(killed[0].pid, signal.SIGKILL)  # one worker process dies
        evs = cluster.wait_for(lambda e: [x for x in running(e, "worker") if x.pid != killed[0].pid],
                               what="an evaluation on the worker node")
        killed.append([x for x in running(evs, "worker") if x.pid != killed[0].pid][0])
        cluster.kill_node("worker")  # the whole node dies: raylet, agents, workers
        _, err = driver.communicate(timeout=240)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert driver.returncode == 0, err[-3000:]
    children = assert_invariants(arch, budget)
    assert all(s != "failed" for s, _ in children.values()), children
    evs = cluster.evals()
    starts = [e for e in evs if e.event == "start"]
    ends = [e for e in evs if e.event == "end"]
    assert len(starts) == len(ends) + len(killed)
    with Archive.open(arch, readonly=True) as a:
        stages = a.query("SELECT COUNT(*) FROM (SELECT DISTINCT agent, stage FROM evaluations)")[0][0]
        # the best agent's re-runs on other seeds (docs/search.md) are evaluations too
        confirms = a.query("SELECT COUNT(*) FROM (SELECT DISTINCT agent, suite, stage, seed "
                           "FROM confirmations)")[0][0]
        assert len(ends) == stages + confirms
    for k in killed:  # each killed evaluation ran again, to its end, after its kill
        assert any(e.code == k.code and e.t > k.t for e in ends), (k, evs)
    # resume on the surviving head node alone
    r = run(dgm_args(arch, SLOW / "suite", SLOW / "agent", budget + 2, *ray_flags(cluster)), cluster.env)
    assert r.returncode == 0, r.stderr
    assert_invariants(arch, budget + 2)


def test_without_an_address_a_private_local_cluster_runs(tmp_path, cluster):
    env = {**cluster.env, "DGM_RAY_OBJECT_STORE_MB": "100"}  # cluster.env: a token, no ~/.ray
    r = run(dgm_args(tmp_path / "a", TOY / "suite", TOY / "agent", 3, "--executor", "ray"), env)
    assert r.returncode == 0, r.stderr
    assert_invariants(tmp_path / "a", 3)


def test_unreachable_address_is_one_clear_line(tmp_path):
    t0 = time.monotonic()
    r = run(dgm_args(tmp_path / "a", TOY / "suite", TOY / "agent", 2, "--executor", "ray",
                     "--ray-address", f"127.0.0.1:{free_port()}"), dict(os.environ), timeout=120)
    assert r.returncode != 0
    assert "cannot reach the Ray cluster at 127.0.0.1:" in r.stderr and "Traceback" not in r.stderr
    assert time.monotonic() - t0 < 60


def test_a_wrong_token_is_one_clear_line(cluster, tmp_path):
    env = {**cluster.env, "RAY_AUTH_TOKEN": "0" * 64}
    r = run(dgm_args(tmp_path / "a", TOY / "suite", TOY / "agent", 1, *ray_flags(cluster)), env, timeout=150)
    assert r.returncode != 0
    assert f"cannot connect to the Ray cluster at {cluster.address}" in r.stderr
    assert "refused this machine's token: set RAY_AUTH_TOKEN" in r.stderr and "Traceback" not in r.stderr
    assert "InvalidAuthToken" not in r.stderr  # Ray's own retry warnings stay quiet


EXECUTOR_SCRIPT = """
import math, sys
from pathlib import Path
from dgm.archive.store import Archive
from dgm.archive.bundles import BundleError
from dgm.engine.evaluation import StageTask, evaluate_stage
from dgm.engine.ray_executor import RayExecutor, RayOptions

toy, address = Path(sys.argv[1]), sys.argv[2]
with Archive.create(Path(sys.argv[3])) as a:
    commit = a.agent(a.add_seed(toy / "agent")).commit_sha
    ex = RayExecutor(2, address=address, options=RayOptions(max_retries=0))
    task = StageTask(repo=str(a.git.path), commit=commit, suite=str(toy / "suite"), stage=0, seed=0,
                     sandbox="unsafe")
    good = ex.submit(evaluate_stage, task)
    bad = ex.submit(evaluate_stage, StageTask(**{**task.__dict__, "commit": "f" * 40}))
    other = ex.submit(math.factorial, 20)
    outcome = good.result(timeout=120)
    print("score", round(outcome.score, 6), "on", outcome.artifacts["evaluated_on"].split(" (")[0])
    try:
        bad.result(timeout=120)
    except BundleError as exc:
        print("bad commit:", str(exc)[:60])
    print("factorial", other.result(timeout=120))
    ex.shutdown()
"""


def test_executor_api_futures_and_a_task_that_cannot_ship(cluster, tmp_path):
    r = subprocess.run([sys.executable, "-c", EXECUTOR_SCRIPT, str(TOY), cluster.address, str(tmp_path / "a")],
                       capture_output=True, text=True, timeout=180, cwd=ROOT, env=cluster.env)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert lines[0].startswith("score 0.") and socket.gethostname() in lines[0]
    assert lines[1].startswith("bad commit: git bundle create: no agent ref")
    assert lines[2] == f"factorial {math.factorial(20)}"
