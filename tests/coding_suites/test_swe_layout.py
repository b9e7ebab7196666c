"""swe-mini's tasks follow the SWE-bench 5 task-repo layout and are internally consistent."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from dgm_codingkit import gitrepo, miniyaml, taskrepo
from dgm_codingkit.patches import changed_paths, is_test_path

from .conftest import SWE

ROOT = SWE.spec.path
TASKS = sorted(SWE.tasks)
REQUIRED_FILES = ("task.yaml", "tests.json", "problem_statement.md", "gold.patch", "test.patch",
                  "eval.sh", "Dockerfile")


def test_at_least_twenty_tasks_from_different_repos():
    assert len(TASKS) >= 20
    assert len({SWE.tasks[t].meta["repo"] for t in TASKS}) == len(TASKS)


def test_sweb_yaml():
    config = miniyaml.load((ROOT / "sweb.yaml").read_text())
    assert config == {"datasets": ["swe-mini"], "splits": ["test"]}


@pytest.mark.parametrize("tid", TASKS)
def test_task_folder(tid):
    task = SWE.tasks[tid]
    for name in REQUIRED_FILES:
        assert (task.dir / name).is_file(), name
    meta = task.meta
    assert meta["instance_id"] == tid and meta["split"] == "test" and meta["datasets"] == ["swe-mini"]
    assert meta["image"] == taskrepo.expected_image(tid)
    assert meta["image"] == f"swebench/sweb.eval.x86_64.{tid.replace('__', '_1776_')}:latest"
    assert meta["log_parser"] == "parse_log_pytest" and meta["eval_type"] == "pass_and_fail"
    tests = json.loads((task.dir / "tests.json").read_text())
    assert set(tests) == {"FAIL_TO_PASS", "PASS_TO_PASS"}
    assert tests["FAIL_TO_PASS"] and not set(tests["FAIL_TO_PASS"]) & set(tests["PASS_TO_PASS"])
    assert all(" " not in t and "::" in t for t in tests["FAIL_TO_PASS"] + tests["PASS_TO_PASS"])
    eval_sh = (task.dir / "eval.sh").read_text()
    assert ">>>>> Start Test Output" in eval_sh and ">>>>> End Test Output" in eval_sh
    assert len(task.problem_statement) > 300
    assert not (task.dir / "repo" / ".git").exists()


@pytest.mark.parametrize("tid", TASKS)
def test_base_commit_is_the_hash_of_the_snapshot(tid, tmp_path):
    task = SWE.tasks[tid]
    assert gitrepo.make_repo(task.dir / "repo", tmp_path / "r") == task.base_commit


@pytest.mark.parametrize("tid", TASKS)
def test_derived_files_are_up_to_date(tid):
    task = SWE.tasks[tid]
    for name, text in taskrepo.derived_files(task).items():
        assert (task.dir / name).read_text() == text, f"run tools/taskgen.py derive {tid}"


@pytest.mark.parametrize("tid", TASKS)
def test_gold_fixes_code_and_test_patch_only_adds_tests(tid):
    task = SWE.tasks[tid]
    assert taskrepo.check_patches(task) == []
    gold = changed_paths(task.gold_patch)
    assert gold and not any(is_test_path(p) for p in gold)
    hidden = changed_paths(task.test_patch)
    assert hidden and all(is_test_path(p) for p in hidden)
    # every F2P test lives in a file the hidden test patch touches
    assert all(t.split("::")[0] in hidden for t in task.fail_to_pass)


def test_stages_small_subset_first_then_the_rest():
    small, rest = SWE.stage_task_ids(0), SWE.stage_task_ids(1)
    assert len(small) == 5
    assert not set(small) & set(rest) and sorted(small + rest) == TASKS
    assert [s.threshold for s in SWE.stages] == [0.0, 0.4]


def test_swebench_accepts_the_task_repo():
    """Cross-check with the swebench package where it is installed (not a dependency)."""
    checks = pytest.importorskip("swebench.task.checks")
    problems = checks.check_task_repo(ROOT)
    assert [str(p) for p in problems if p.severity == "error"] == []
    repo = pytest.importorskip("swebench.task.repo")
    instances = repo.load_task_repo(ROOT)
    assert {i["instance_id"] for i in instances} == set(TASKS)
    for inst in instances:
        assert inst["FAIL_TO_PASS"] == SWE.tasks[inst["instance_id"]].fail_to_pass


def test_tasks_yaml_parses_with_pyyaml_where_available():
    yaml = pytest.importorskip("yaml")
    for tid in TASKS:
        text = (SWE.tasks[tid].dir / "task.yaml").read_text()
        assert yaml.safe_load(text) == miniyaml.load(text)


def test_a_changed_snapshot_is_caught(tmp_path):
    src = SWE.tasks[TASKS[0]]
    copy = tmp_path / TASKS[0]
    import shutil
    shutil.copytree(src.dir, copy)
    (copy / "repo" / "README.md").write_text("edited\n")
    task = taskrepo.load_task(copy)
    with pytest.raises(taskrepo.TaskError, match="derive"):
        task.build_testbed(Path(tempfile.mkdtemp(dir=tmp_path)) / "tb")
