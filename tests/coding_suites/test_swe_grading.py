"""Grading swe-mini answers in a sandbox: gold resolves, empty does not, test edits are neutralised."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dgm.sandbox.base import Mount
from dgm_codingkit import gitrepo
from dgm_codingkit.agentrun import HARNESS_DIR
from dgm_codingkit.patches import file_diff

from .conftest import SWE

TID = "swemini__kvparse-1"
TASK = SWE.tasks[TID]
TEST_FILE = "tests/test_parser.py"
FORCE_PASS_HOOK = '''import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        report.outcome = "passed"
'''


def _fixed_parse_kv_in_test_module() -> str:
    """A test-file edit that swaps in a working parse_kv for the tests' own name."""
    original = TASK.files[TEST_FILE].decode()
    cheat = (
        "\n\ndef parse_kv(text, sep=';'):\n"
        "    chunks, cur, quoted = [], '', False\n"
        "    for ch in text:\n"
        "        if ch == '\"':\n"
        "            quoted = not quoted\n"
        "        elif ch == sep and not quoted:\n"
        "            chunks.append(cur)\n"
        "            cur = ''\n"
        "            continue\n"
        "        cur += ch\n"
        "    if quoted:\n"
        "        raise ParseError('unterminated quote')\n"
        "    out = {}\n"
        "    for c in chunks + [cur]:\n"
        "        if not c.strip():\n"
        "            continue\n"
        "        if '=' not in c or not c.split('=', 1)[0].strip():\n"
        "            raise ParseError(c)\n"
        "        k, v = (x.strip() for x in c.split('=', 1))\n"
        "        out[k] = v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '\"' else v\n"
        "    return out\n")
    edited = original.replace("from kvparse import ParseError, format_kv, parse_kv\n",
                              "from kvparse import ParseError, format_kv, parse_kv\n" + cheat, 1)
    assert edited != original
    return file_diff(TEST_FILE, original, edited)


HOSTILE = {
    "conftest hook forcing passes": file_diff("conftest.py", None, FORCE_PASS_HOOK),
    "pytest.ini loading a cheating plugin": (
        file_diff("pytest.ini", None, "[pytest]\naddopts = -p kvcheat\n")
        + file_diff("kvcheat.py", None, FORCE_PASS_HOOK)),
    "a pytest.py shadowing pytest": file_diff("pytest.py", None, (
        "import sys\nprint('=' * 20 + ' short test summary info ' + '=' * 20)\n"
        + "".join(f"print('PASSED {t}')\n" for t in TASK.fail_to_pass + TASK.pass_to_pass)
        + "print('=' * 20 + ' all passed ' + '=' * 20)\nsys.exit(0)\n")),
    "test module replacing the function under test": _fixed_parse_kv_in_test_module(),
}


def test_every_gold_patch_resolves_its_task(swe, coding_sandbox):
    results = swe.grade_many({t: swe.tasks[t].gold_patch for t in swe.tasks}, coding_sandbox)
    unresolved = {t: r.log for t, r in results.items() if not r.resolved}
    assert unresolved == {}
    assert all(r.score == 1.0 for r in results.values())


def test_an_empty_patch_resolves_none(swe, coding_sandbox):
    results = swe.grade_many({t: "" for t in swe.tasks}, coding_sandbox)
    assert [t for t, r in results.items() if r.resolved] == []
    for t, r in results.items():
        assert r.score == 0.0
        assert "FAIL_TO_PASS not passing" in r.log and swe.tasks[t].fail_to_pass[0] in r.log


def _plain_pytest(tmp_path: Path, patch: str) -> dict[str, str]:
    """What the hostile patch achieves WITHOUT our defences: apply everything, plain pytest -rA."""
    from dgm_codingkit.pytestlog import parse_pytest_log

    repo = tmp_path / "plain"
    gitrepo.make_repo(TASK.files, repo)
    for p in (TASK.test_patch, patch):
        subprocess.run(["git", "apply", "-"], cwd=repo, input=p.encode(), check=True)
    out = subprocess.run([sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider"], cwd=repo,
                         capture_output=True, text=True, timeout=120)
    return parse_pytest_log(out.stdout)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_patches_are_neutralised(name, coding_sandbox, tmp_path):
    patch = HOSTILE[name]
    # Without the defences the trick works: every FAIL_TO_PASS test reads as passed ...
    naive = _plain_pytest(tmp_path, patch)
    assert all(naive.get(t) == "PASSED" for t in TASK.fail_to_pass), naive
    # ... with them it does not.
    result = SWE.grade(TID, patch, coding_sandbox)
    assert not result.resolved, result.log
    assert "FAIL_TO_PASS not passing" in result.log or "tampering" in result.log


def test_gold_plus_test_edits_still_resolves_and_says_what_was_ignored(coding_sandbox):
    original = TASK.files[TEST_FILE].decode()
    gutted = original.replace("def test_missing_equals():", "def _disabled_missing_equals():")
    patch = TASK.gold_patch + file_diff(TEST_FILE, original, gutted)
    result = SWE.grade(TID, patch, coding_sandbox)
    assert result.resolved, result.log
    assert "ignored changes to test files: tests/test_parser.py" in result.log
    # ... but gold plus a conftest.py is tampering with the test machinery: 0, whatever else it does.
    result = SWE.grade(TID, patch + HOSTILE["conftest hook forcing passes"], coding_sandbox)
    assert not result.resolved
    assert "tampering: the answer touches test infrastructure: changes conftest.py" in result.log


def test_grader_restores_test_files_the_host_did_not_strip(coding_sandbox, tmp_path):
    """Second line of defence: harness/grade.py itself undoes test-file changes."""
    job = tmp_path / "job"
    job.mkdir()
    TASK.build_testbed(job / "testbed")
    original = TASK.files[TEST_FILE].decode()
    (job / "model.patch").write_text(HOSTILE["conftest hook forcing passes"]
                                     + file_diff(TEST_FILE, original, original + "\n# edited\n"))
    (job / "test.patch").write_text(TASK.test_patch)
    rr = coding_sandbox.run("dgm-sandbox", ["python3", "/harness/grade.py", "--job", "/job",
                                            "--timeout", "60"],
                            mounts=[Mount(HARNESS_DIR, "/harness"), Mount(job, "/job", writable=True)],
                            workdir="/job")
    assert rr.ok, rr.stderr
    line = [x for x in rr.stdout.splitlines() if x.startswith("DGM-GRADE ")][-1]
    res = json.loads(line[len("DGM-GRADE "):])
    assert res["applied"] and res["test_patch_applied"]
    assert sorted(res["restored"]) == ["conftest.py", TEST_FILE]
    out = (job / "test_output.txt").read_text()
    assert f"FAILED {TASK.fail_to_pass[0]}" in out or "FAILED" in out


def test_a_fix_that_breaks_other_tests_is_unresolved(coding_sandbox):
    src = TASK.files["kvparse/parser.py"].decode()
    broken = src.replace('        result[key] = value.strip()\n', '        result[key] = value\n')
    broken = broken.replace('key, value = chunk.split("=")', 'key, value = chunk.split("=", 1)')
    result = SWE.grade(TID, file_diff("kvparse/parser.py", src, broken), coding_sandbox)
    assert not result.resolved
    assert "PASS_TO_PASS broken: tests/test_parser.py::test_whitespace_is_ignored" in result.log


def test_a_patch_that_does_not_apply(coding_sandbox):
    patch = file_diff("kvparse/parser.py", "no such\ncontent\nhere\n", "other\n")
    result = SWE.grade(TID, patch, coding_sandbox)
    assert not result.resolved and "patch does not apply" in result.log


def test_hanging_tests_time_out(coding_sandbox, monkeypatch):
    monkeypatch.setattr(SWE, "grading", SWE.grading.model_copy(update={"seconds_per_task": 3}))
    init = TASK.files["kvparse/__init__.py"].decode()
    patch = TASK.gold_patch + file_diff("kvparse/__init__.py", init,
                                        "import time\ntime.sleep(120)\n" + init)
    result = SWE.grade(TID, patch, coding_sandbox)
    assert not result.resolved and "tests timed out after 3 s" in result.log
