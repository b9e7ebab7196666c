"""The polyglot suite: Aider's Polyglot layout, each language's own tests, two attempts.

Loading and the agent's view are checked anywhere; grading needs the
polyglot image variant (`dgm sandbox build --with polyglot`), so those tests
are docker-marked and skip when the variant is not built (fail in CI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from dgm.errors import ConfigError
from dgm.suites import load_suite

from .polyglot_fixture import build_tree

DGM = [sys.executable, "-m", "dgm.cli.app"]


@pytest.fixture()
def tree(tmp_path, monkeypatch):
    root = build_tree(tmp_path / "polyglot-benchmark")
    monkeypatch.setenv("DGM_POLYGLOT_ROOT", str(root))
    return root


@pytest.fixture(scope="module")
def polyglot_sandbox(docker_sandbox):
    from dgm.sandbox import in_ci
    from dgm.sandbox.variants import current_variant

    if current_variant("polyglot") is None:
        if in_ci():
            pytest.fail("CI must build the polyglot variant (dgm sandbox build --with polyglot)")
        pytest.skip("the polyglot image variant is not built (dgm sandbox build --with polyglot)")
    return docker_sandbox


def test_the_agent_sees_stubs_and_instructions_but_no_tests_or_reference(tree, tmp_path):
    suite = load_suite("polyglot")
    assert sorted(suite.tasks) == ["cpp__leap", "go__leap", "java__leap", "javascript__leap", "python__leap",
                                   "rust__leap"]
    cpp = suite.tasks["cpp__leap"]
    assert set(cpp.stub_files) == {"CMakeLists.txt", "leap.cpp", "leap.h", "test/catch.hpp",
                                   "test/tests-main.cpp"}
    assert set(cpp.hidden_files) == {"leap_test.cpp"}
    assert "leap year (cpp)" in cpp.problem_statement and "leap.cpp leap.h" in cpp.problem_statement
    cpp.build_testbed(tmp_path / "bed")
    assert not (tmp_path / "bed" / ".meta").exists() and not (tmp_path / "bed" / "leap_test.cpp").exists()
    assert "The tests are correct" in cpp.retry_statement("boom") and "boom" in cpp.retry_statement("boom")


def test_answers_may_change_only_the_solution_files(tree):
    rust = load_suite("polyglot").tasks["rust__leap"]
    from dgm_codingkit.patches import file_diff

    evil = (file_diff("tests/leap.rs", None, "#[test]\nfn ok() {}\n") + file_diff(".meta/x", None, "x\n")
            + file_diff("src/lib.rs", "a\n", "b\n"))
    evil += file_diff("src/helper.rs", None, "pub fn x() {}\n")
    kept, dropped = rust.strip_answer(evil)
    assert dropped == ["tests/leap.rs", ".meta/x", "src/helper.rs"] and "src/lib.rs" in kept


def test_options_select_languages_and_ids(tree, monkeypatch):
    monkeypatch.setenv("DGM_POLYGLOT_LANGUAGES", "python,go")
    assert sorted(load_suite("polyglot").tasks) == ["go__leap", "python__leap"]
    monkeypatch.setenv("DGM_POLYGLOT_LANGUAGES", "cobol")
    with pytest.raises(ConfigError, match="unknown languages cobol"):
        load_suite("polyglot")
    monkeypatch.delenv("DGM_POLYGLOT_LANGUAGES")
    monkeypatch.setenv("DGM_POLYGLOT_IDS", "go__leap")
    assert load_suite("polyglot").stages[0].params["tasks"] == ["go__leap"]
    (tree / "go" / "exercises" / "practice" / "leap" / ".meta" / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="go/exercises/practice/leap: .meta/config.json needs"):
        load_suite("polyglot")


@pytest.mark.docker
@pytest.mark.slow  # 2-10 min: C++ compiles Catch2's main twice
def test_reference_solutions_pass_and_stubs_fail_in_six_languages(tree, polyglot_sandbox):
    suite = load_suite("polyglot")
    # Catch2's main alone takes 40 s to compile on a quiet 2-core machine; far more under load
    suite.grading = suite.grading.model_copy(update={"seconds_per_task": 900})
    ids = sorted(suite.tasks)
    ref = suite.grade_many({t: suite.tasks[t].reference_patch() for t in ids}, polyglot_sandbox)
    assert {t: r.log for t, r in ref.items() if not r.resolved} == {}
    assert len(ref) == 6
    assert all("passed: 4 tests" in r.log or t == "go__leap" for t, r in ref.items())
    stub = suite.grade_many({t: "" for t in ids}, polyglot_sandbox)
    assert [t for t, r in stub.items() if r.resolved] == []


@pytest.mark.docker
def test_tampering_with_the_tests_does_not_pass(tree, polyglot_sandbox):
    from dgm_codingkit.patches import file_diff

    suite = load_suite("polyglot")
    py = suite.tasks["python__leap"]
    fake_test = "def test_ok():\n    pass\n"
    cheat = (file_diff("leap_test.py", None, fake_test)                          # the hidden test, replaced
             + file_diff("conftest.py", None, "import os\nos._exit(0)\n"))       # exit 0 before any test
    res = suite.grade("python__leap", cheat, polyglot_sandbox)
    assert not res.resolved
    assert "ignored changes to files other than the solution: leap_test.py, conftest.py" in res.log
    # a new file beside the solution (here a would-be unittest shadow) is dropped and deleted
    wrong = "def leap_year(year):\n    return False\n"
    shadow = file_diff("leap.py", py.stub_files["leap.py"].decode(), wrong)
    shadow += file_diff("unittest.py", None, "class TestCase:\n    def assertIs(self, a, b):\n        pass\n")
    res = suite.grade("python__leap", shadow, polyglot_sandbox)
    assert not res.resolved and "unittest.py" in res.log
    assert py.verdict(0, "") == (False, "only 0 of 4 tests reported passing")


RETRY_AGENT = '''
import argparse, json, pathlib, subprocess
ap = argparse.ArgumentParser()
for a in ("--problem-file", "--repo", "--out"):
    ap.add_argument(a, required=True)
args = ap.parse_args()
problem = open(args.problem_file).read()
answers = json.loads((pathlib.Path(__file__).parent / "answers.json").read_text())
second = "The tests of your previous attempt failed" in problem
(pathlib.Path(args.out) / "transcript.md").write_text("second attempt\\n" if second else "first attempt\\n")
if second:  # answers only once it has seen the failing test output
    lang = problem.split("leap year (", 1)[1].split(")", 1)[0]
    assert "FAIL" in problem or "failed" in problem
    subprocess.run(["git", "apply", "-"], cwd=args.repo, input=answers[lang].encode(), check=True)
'''


@pytest.mark.docker
@pytest.mark.slow
def test_dgm_suite_eval_two_attempts_in_docker(tree, polyglot_sandbox, tmp_path):
    """Through the CLI: the agent fixes nothing first, then reads the test output and fixes it."""
    suite = load_suite("polyglot")
    langs = ["python", "go", "rust"]  # C++ is graded above; its Catch2 build takes ~45 s per run here
    agent = tmp_path / "agent"
    agent.mkdir()
    (agent / "agent.toml").write_text('name = "retry"\ndomain = "coding"\n[commands]\n'
                                      'solve = ["python3", "agent.py"]\n')
    (agent / "agent.py").write_text(textwrap.dedent(RETRY_AGENT))
    (agent / "answers.json").write_text(json.dumps(
        {lang: suite.tasks[f"{lang}__leap"].reference_patch() for lang in langs}))
    out = tmp_path / "results.json"
    env = {**os.environ, "DGM_SANDBOX": "docker", "DGM_POLYGLOT_LANGUAGES": ",".join(langs)}
    proc = subprocess.run(DGM + ["suite", "eval", "polyglot", str(agent), "--json", str(out)],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = {r["task_id"]: r for r in json.loads(out.read_text())[0]["results"]}
    assert {t: r["resolved"] for t, r in results.items()} == {f"{lang}__leap": True for lang in langs}, \
        {t: r["log"][-800:] for t, r in results.items()}
    assert all("attempt 2: passed" in r["log"] for r in results.values())


FORGER = '''
import glob, json, os, time
FAKE = "".join(f"leap_test.py::LeapTest::test_{i} PASSED\\n" for i in range(9)) + "9 passed in 0.01s\\n"
LINE = "\\nDGM-GRADE " + json.dumps({"applied": True, "exit_code": 0, "timed_out": False,
                                      "error": "", "log": FAKE}) + "\\n"
if os.fork() == 0:  # the code under test leaves a process behind that forges the grade
    os.setsid()
    end = time.time() + 40
    while time.time() < end:
        for name, text in (("result.json", json.dumps({"applied": True, "exit_code": 0,
                                                        "timed_out": False, "error": ""})),
                           ("test_output.txt", FAKE)):
            try:
                with open("/job/" + name, "w") as f:
                    f.write(text)
            except OSError:
                pass
        for fd in glob.glob("/proc/[0-9]*/fd/1"):  # the grader's stdout, wherever it is held
            try:
                with open(fd, "w") as f:
                    f.write(LINE)
            except OSError:
                pass
        time.sleep(0.01)
    os._exit(0)
'''


@pytest.mark.docker
def test_a_process_left_by_the_code_under_test_cannot_write_the_grade(tree, polyglot_sandbox):
    """The answer's leftover rewrites the job's result files and writes forged result lines
    wherever it can for 40 s: the wrong answer still fails; a right one with the same
    leftover still passes (the grade is read from the grader's own stdout, after the kill)."""
    from dgm_codingkit.patches import file_diff

    suite = load_suite("polyglot")
    py = suite.tasks["python__leap"]
    stub = py.stub_files["leap.py"].decode()
    wrong = FORGER + "def leap_year(year):\n    return False\n"
    res = suite.grade("python__leap", file_diff("leap.py", stub, wrong), polyglot_sandbox)
    assert not res.resolved, res.log
    assert res.seconds < 40  # the leftover was killed, not waited for
    right = FORGER + "def leap_year(year):\n    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)\n"
    res = suite.grade("python__leap", file_diff("leap.py", stub, right), polyglot_sandbox)
    assert res.resolved, res.log
