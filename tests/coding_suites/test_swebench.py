"""The swe-bench suite: SWE-bench-format instance files over a local repository mirror."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dgm.errors import ConfigError
from dgm.suites import load_suite

from .agents import make_agent
from .swebench_fixture import REGRESSION, build_dataset, git

DGM = [sys.executable, "-m", "dgm.cli.app"]


@pytest.fixture()
def dataset(tmp_path, monkeypatch):
    path, mirror, instances = build_dataset(tmp_path / "data")
    monkeypatch.setenv("DGM_SWEBENCH_INSTANCES", str(path))
    monkeypatch.setenv("DGM_SWEBENCH_REPOS", str(mirror))
    monkeypatch.setenv("DGM_SWEBENCH_CACHE", str(tmp_path / "cache"))
    return path, mirror, instances


def test_instances_load_from_every_mirror_layout_with_both_list_encodings(dataset, tmp_path):
    suite = load_suite("swe-bench")
    _, _, instances = dataset
    assert sorted(suite.tasks) == sorted(instances)
    for iid, raw in instances.items():
        t = suite.tasks[iid]
        f2p = json.loads(raw["FAIL_TO_PASS"]) if isinstance(raw["FAIL_TO_PASS"], str) else raw["FAIL_TO_PASS"]
        assert t.fail_to_pass == f2p and t.base_commit == raw["base_commit"]
        bed = tmp_path / "beds" / iid
        t.build_testbed(bed)
        # the files at base_commit, one commit, and nothing of the upstream fix reachable
        assert git(["rev-list", "--all", "--count"], bed).strip() == "1"
        assert "the upstream fix" not in git(["log", "--all", "--format=%s"], bed)
        assert git(["status", "--porcelain"], bed) == ""
        assert subprocess.run(["git", "apply", "--check", "-"], cwd=bed, input=raw["patch"].encode()).returncode == 0


def test_json_array_files_load_too(dataset, tmp_path, monkeypatch):
    path, _, instances = dataset
    arr = tmp_path / "instances.json"
    arr.write_text(json.dumps(list(instances.values()), indent=2))
    monkeypatch.setenv("DGM_SWEBENCH_INSTANCES", str(arr))
    assert sorted(load_suite("swe-bench").tasks) == sorted(instances)


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.pop("test_patch"), "missing test_patch"),
    (lambda r: r.update(FAIL_TO_PASS="[oops"), "FAIL_TO_PASS is neither a list"),
    (lambda r: r.update(FAIL_TO_PASS=[]), "FAIL_TO_PASS is empty"),
    (lambda r: r.update(repo="no-slash"), "repo must be owner/name"),
])
def test_bad_instances_are_one_clear_error(dataset, tmp_path, monkeypatch, mutate, message):
    _, _, instances = dataset
    rows = [dict(r) for r in instances.values()]
    mutate(rows[1])
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("DGM_SWEBENCH_INSTANCES", str(bad))
    with pytest.raises(ConfigError, match=message) as err:
        load_suite("swe-bench")
    assert f"{bad}:2" in str(err.value)


def test_missing_data_and_missing_repositories_are_clear(dataset, monkeypatch, tmp_path):
    monkeypatch.delenv("DGM_SWEBENCH_INSTANCES")
    with pytest.raises(ConfigError, match="DGM_SWEBENCH_INSTANCES"):
        load_suite("swe-bench")
    monkeypatch.setenv("DGM_SWEBENCH_INSTANCES", str(dataset[0]))
    monkeypatch.setenv("DGM_SWEBENCH_REPOS", str(tmp_path))
    suite = load_suite("swe-bench")
    with pytest.raises(ConfigError, match="acme/calc is not in the mirror"):
        suite.tasks["acme__calc-1"].build_testbed(tmp_path / "bed")


def test_a_suite_folder_of_the_users_own_names_the_data(dataset, tmp_path, monkeypatch):
    """What docs/coding-suites.md suggests: copy suite.toml, fill in [dataset], point scorer at ours."""
    from dgm.suites import EVALUATORS

    path, mirror, _ = dataset
    for var in ("DGM_SWEBENCH_INSTANCES", "DGM_SWEBENCH_REPOS"):
        monkeypatch.delenv(var)
    mine = tmp_path / "my-bench"
    mine.mkdir()
    (mine / "data").symlink_to(path.parent)
    text = (EVALUATORS / "swe-bench" / "suite.toml").read_text()
    text = text.replace('scorer = "scorer.py"', f'scorer = "{EVALUATORS / "swe-bench" / "scorer.py"}"')
    text = text.replace('# instances = "swe-bench-verified.jsonl"', 'instances = "data/instances.jsonl"')
    text = text.replace('# repos = "repos"', 'repos = "data/repos"').replace("# count = 60", "count = 2")
    (mine / "suite.toml").write_text(text)
    suite = load_suite(str(mine))
    assert len(suite.tasks) == 3 and len(suite.stages[0].params["tasks"]) == 2


def test_selection_by_ids_and_count_and_the_dgm_preset(dataset, monkeypatch):
    monkeypatch.setenv("DGM_SWEBENCH_IDS", "acme__strs-2,acme__calc-1")
    suite = load_suite("swe-bench")
    assert [(s.name, s.params["tasks"]) for s in suite.stages] == [("small", ["acme__strs-2", "acme__calc-1"])]
    monkeypatch.setenv("DGM_SWEBENCH_IDS", "acme__nope-9")
    with pytest.raises(ConfigError, match="unknown ids acme__nope-9"):
        load_suite("swe-bench")
    monkeypatch.delenv("DGM_SWEBENCH_IDS")
    monkeypatch.setenv("DGM_SWEBENCH_COUNT", "2")
    two = load_suite("swe-bench").stages
    assert len(two) == 1 and len(two[0].params["tasks"]) == 2
    from dgm_codingkit.datasets import preset_stages

    pool = [f"r__r-{i}" for i in range(75)]
    stages = preset_stages("dgm", pool)
    assert [(s.name, s.threshold, len(s.params["tasks"])) for s in stages] == \
        [("small", 0.0, 10), ("medium", 0.4, 50), ("full", 0.4, 15)]
    assert sum((s.params["tasks"] for s in stages), []) == pool


def test_repositories_the_grader_cannot_drive_are_left_out_with_the_reason(dataset, tmp_path, monkeypatch):
    _, _, instances = dataset
    rows = list(instances.values()) + [dict(next(iter(instances.values())), repo="django/django",
                                            instance_id="django__django-1")]
    f = tmp_path / "mixed.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("DGM_SWEBENCH_INSTANCES", str(f))
    suite = load_suite("swe-bench")
    assert "django__django-1" not in suite.tasks and "runtests.py" in suite.unsupported["django__django-1"]
    monkeypatch.setenv("DGM_SWEBENCH_IDS", "django__django-1")
    with pytest.raises(ConfigError, match="runner 'django' is not supported"):
        load_suite("swe-bench")


def test_gold_empty_and_regression_patches(dataset, coding_sandbox):
    suite = load_suite("swe-bench")
    gold = suite.tasks["acme__calc-1"].gold_patch
    res = suite.grade_many({"acme__calc-1": gold, "acme__strs-2": "", "acme__mathx-3": REGRESSION},
                           coding_sandbox)
    assert res["acme__calc-1"].resolved, res["acme__calc-1"].log
    assert not res["acme__strs-2"].resolved and "FAIL_TO_PASS not passing" in res["acme__strs-2"].log
    mathx = res["acme__mathx-3"]
    assert not mathx.resolved and mathx.log.startswith("PASS_TO_PASS broken: tests/test_mathx.py::test_square")


@pytest.mark.docker
def test_dgm_suite_eval_in_docker(dataset, docker_sandbox, tmp_path):
    """gold resolves, doing nothing does not, a PASS_TO_PASS regression fails: through the CLI."""
    _, _, instances = dataset
    answers = {instances["acme__calc-1"]["problem_statement"]: instances["acme__calc-1"]["patch"],
               instances["acme__mathx-3"]["problem_statement"]: REGRESSION}
    agent = make_agent(tmp_path, "replay", answers)
    out = tmp_path / "results.json"
    env = {**os.environ, "DGM_SANDBOX": "docker"}
    proc = subprocess.run(DGM + ["suite", "eval", "swe-bench", str(agent), "--json", str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "resolved 1/3" in proc.stdout and "sandbox: docker" in proc.stderr
    results = {r["task_id"]: r for r in json.loads(out.read_text())[0]["results"]}
    assert {t: r["resolved"] for t, r in results.items()} == \
        {"acme__calc-1": True, "acme__strs-2": False, "acme__mathx-3": False}
    assert "FAIL_TO_PASS not passing: tests/test_core.py::test_shout" in results["acme__strs-2"]["log"]
    assert "PASS_TO_PASS broken: tests/test_mathx.py::test_square" in results["acme__mathx-3"]["log"]
    assert "FAIL_TO_PASS not passing" not in results["acme__mathx-3"]["log"]


def test_only_the_python_test_files_the_test_patch_leaves_are_run(dataset):
    from dgm_codingkit.patches import file_diff
    from dgm_codingkit.swebench import SweBenchInstance

    tp = (file_diff("tests/test_a.py", None, "x\n") + file_diff("tests/test_old.py", "y\n", None)
          + file_diff("tests/data.txt", None, "z\n"))
    inst = SweBenchInstance("o__r-1", "o/r", "abc1234", "p", "", tp, ["t"], [])
    assert inst.test_files == ["tests/test_a.py"]
    assert inst.grading_spec["test_args"] == ["tests/test_a.py"]
