"""docs/extending.md stays true: its example suite passes `dgm suite check` and scores its
example agent with `dgm suite eval`; its coding agent is a valid agent and valid Python."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from dgm.agents import parse_manifest

ROOT = Path(__file__).resolve().parents[2]
DGM = str(Path(sys.executable).parent / "dgm")


def blocks() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "extending.md").read_text()
    return re.findall(r"```(\w+)\n(.*?)```", text, re.S)


def test_the_documented_suite_and_agents_work(tmp_path):
    b = [code for lang, code in blocks() if lang in ("toml", "python")]
    suite_toml, scorer, toy_toml, toy_py, coding_toml, coding_py = b[:6]
    assert len(scorer.strip().splitlines()) <= 32  # "a suite in 30 lines"
    suite = tmp_path / "my-suite"
    suite.mkdir()
    (suite / "suite.toml").write_text(suite_toml)
    (suite / "scorer.py").write_text(scorer)
    agent = tmp_path / "my-agent"
    agent.mkdir()
    (agent / "agent.toml").write_text(toy_toml)
    (agent / "predict.py").write_text(toy_py)

    r = subprocess.run([DGM, "suite", "check", str(suite)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "ok: suite fit-line" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([DGM, "suite", "eval", str(suite), str(agent), "--unsafe"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    # slope 1, offset 0.5 against 3x + 2: the first stage scores between 0 and 1
    score = float(re.search(r"stage 1 small seed \d+: score ([0-9.]+)", r.stdout).group(1))
    assert 0.1 < score < 0.9, r.stdout

    assert parse_manifest(coding_toml).domain == "coding"
    compile(coding_py, "solve.py", "exec")


def test_suite_check_names_each_problem(tmp_path):
    suite = tmp_path / "bad"
    suite.mkdir()
    (suite / "suite.toml").write_text('name = "bad"\ndomain = "chess"\n[[stages]]\nname = "a"\n'
                                      '[[stages]]\nname = "a"\nthreshold = 2.0\n')
    (suite / "scorer.py").write_text("from dgm.suites import Suite\n"
                                     "class S(Suite):\n    def evaluate(self, a, s, c): ...\n"
                                     "def make_suite(spec):\n    return S(spec)\n")
    r = subprocess.run([DGM, "suite", "check", str(suite)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "domain 'chess'" in r.stderr and "stage names repeat" in r.stderr and "threshold 2.0" in r.stderr
    (suite / "scorer.py").write_text("def make_suite(spec):\n    return object()\n")
    (suite / "suite.toml").write_text('name = "bad"\ndomain = "coding"\n[[stages]]\nname = "a"\n')
    r = subprocess.run([DGM, "suite", "check", str(suite)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "not a dgm.suites.Suite" in r.stderr and r.stderr.count("\n") <= 2
