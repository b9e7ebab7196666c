"""`dgm replay`: reproduce recorded per-task scores; report tampering; export code."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "tests" / "loop" / "toy"
DGM = str(Path(sys.executable).parent / "dgm")


def dgm(*args, timeout=300):
    return subprocess.run([DGM, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def toy_archive(tmp_path_factory):
    """A real offline run in the real sandbox (docker or bwrap, whichever this machine has)."""
    arch = tmp_path_factory.mktemp("replay") / "a"
    r = dgm("run", "--archive", str(arch), "--suite", str(TOY / "suite"), "--seed-agent",
            str(TOY / "agent"), "--children", "4", "--quiet", "--workers", "1")
    assert r.returncode == 0, r.stderr
    return arch


def test_replay_reproduces_recorded_scores(toy_archive):
    for agent in ("1", "3", "5"):
        r = dgm("replay", agent, "--archive", str(toy_archive))
        assert r.returncode == 0, r.stdout + r.stderr
        assert "task scores match the record" in r.stdout
    r = dgm("replay", "2", "--archive", str(toy_archive), "--stage", "1")
    assert r.returncode == 0 and "all 3 task scores match" in r.stdout


def test_an_altered_score_is_a_mismatch_with_exit_1(toy_archive, tmp_path):
    import shutil
    copy = tmp_path / "tampered"
    shutil.copytree(toy_archive, copy)
    with sqlite3.connect(copy / "dgm.db") as db:
        db.execute("UPDATE evaluations SET score = score + 0.25 WHERE agent='000002' AND task='x=1.0'")
    r = dgm("replay", "2", "--archive", str(copy))
    assert r.returncode == 1
    assert "DIFFERS" in r.stdout and "1 of" in r.stdout


def test_unknown_agent_and_unrecorded_stage_are_one_line(toy_archive):
    r = dgm("replay", "999", "--archive", str(toy_archive))
    assert r.returncode == 2 and "unknown agent '999'" in r.stderr and "Traceback" not in r.stderr
    r = dgm("replay", "1", "--archive", str(toy_archive), "--stage", "7")
    assert r.returncode == 2 and "no recorded stage 7" in r.stderr


def test_export_writes_a_standalone_agent(toy_archive, tmp_path):
    out = tmp_path / "exported"
    r = dgm("replay", "3", "--archive", str(toy_archive), "--export", str(out))
    assert r.returncode == 0, r.stderr
    assert (out / "agent.toml").is_file() and (out / "predict.py").is_file()
    readme = (out / "DGM_AGENT.md").read_text()
    assert "000001 →" in readme and "predict" in readme
    # the exported directory is a valid seed for a new archive, and replays there
    r = dgm("init", "--archive", str(tmp_path / "b"), "--seed", str(out))
    assert r.returncode == 0, r.stderr
    r = dgm("replay", "3", "--archive", str(toy_archive), "--export", str(out))
    assert r.returncode == 2 and "not empty" in r.stderr
