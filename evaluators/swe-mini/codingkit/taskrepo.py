"""swe-mini's tasks, stored in the SWE-bench 5 task-repo layout.

::

    sweb.yaml                      datasets + splits
    tasks/<instance_id>/task.yaml  instance_id, repo, version, base_commit, split, datasets,
                                   image, log_parser, eval_type
                        tests.json {"FAIL_TO_PASS": [...], "PASS_TO_PASS": [...]}
                        problem_statement.md, gold.patch, test.patch
                        eval.sh    (with the >>>>> Start/End Test Output markers)
                        Dockerfile (build context = the task dir; COPY repo /testbed)
                        repo/      the repository snapshot at the base commit (plain files)

``eval.sh`` and ``Dockerfile`` are derived from the rest (see ``render_eval_sh``
and ``render_dockerfile``); the tests check they are up to date and that
``base_commit`` is the hash ``gitrepo.make_repo`` gives the snapshot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from dgm.errors import ConfigError

from . import gitrepo, miniyaml
from .patches import changed_paths, is_test_path, split_diff

REQUIRED_KEYS = ("instance_id", "repo", "version", "base_commit", "split", "datasets",
                 "image", "log_parser", "eval_type")
DATASET = "swe-mini"
HEREDOC = "EOF_114329324912"  # SWE-bench's delimiter for the inlined test patch
# The in-sandbox grader runs exactly this (plus the testbed path) as well.
PYTEST_CMD = ("PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -I -m pytest -rA -p no:cacheprovider"
              " -c /dev/null --rootdir /testbed -o pythonpath=/testbed")


class TaskError(ConfigError):
    """A task directory that does not follow the layout (a clear one-line error)."""


def expected_image(instance_id: str) -> str:
    """The image name swebench derives for an instance (``swebench.task.checks``)."""
    return f"swebench/sweb.eval.x86_64.{instance_id}:latest".lower().replace("__", "_1776_")


@dataclass
class SweTask:
    instance_id: str
    dir: Path
    meta: dict
    fail_to_pass: list[str]
    pass_to_pass: list[str]

    @property
    def base_commit(self) -> str:
        return str(self.meta["base_commit"])

    @cached_property
    def problem_statement(self) -> str:
        return (self.dir / "problem_statement.md").read_text()

    @cached_property
    def gold_patch(self) -> str:
        return _read(self.dir / "gold.patch")

    @cached_property
    def test_patch(self) -> str:
        return _read(self.dir / "test.patch")

    @cached_property
    def files(self) -> dict[str, bytes]:
        return gitrepo.snapshot_files(self.dir / "repo")

    def build_testbed(self, dest: Path) -> str:
        """Create the task's repository at its base commit in ``dest``; checks the hash."""
        commit = gitrepo.make_repo(self.files, dest)
        if commit != self.base_commit:
            raise TaskError(f"{self.instance_id}: snapshot gives commit {commit}, task.yaml says "
                            f"{self.base_commit}; run tools/taskgen.py derive {self.instance_id}")
        return commit


def _read(path: Path) -> str:
    with open(path, newline="") as fh:  # keep CRLF in patches verbatim
        return fh.read()


def load_task(task_dir: Path) -> SweTask:
    where = f"{task_dir.name}/task.yaml"
    try:
        meta = miniyaml.load((task_dir / "task.yaml").read_text(), where)
        tests = json.loads((task_dir / "tests.json").read_text())
    except (OSError, ValueError) as exc:
        raise TaskError(f"{task_dir}: {exc}") from None
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise TaskError(f"{where}: missing {', '.join(missing)}")
    if meta["instance_id"] != task_dir.name:
        raise TaskError(f"{where}: instance_id {meta['instance_id']!r} is not the folder name")
    f2p, p2p = tests.get("FAIL_TO_PASS"), tests.get("PASS_TO_PASS")
    if not isinstance(f2p, list) or not f2p or not isinstance(p2p, list):
        raise TaskError(f"{task_dir.name}/tests.json: needs a non-empty FAIL_TO_PASS list and a "
                        "PASS_TO_PASS list")
    return SweTask(task_dir.name, task_dir, meta, [str(t) for t in f2p], [str(t) for t in p2p])


def load_tasks(root: Path) -> dict[str, SweTask]:
    """Every task under ``root/tasks``, by instance id, in sorted order."""
    tasks_dir = root / "tasks"
    if not tasks_dir.is_dir():
        raise TaskError(f"{root} has no tasks/ directory")
    return {d.name: load_task(d) for d in sorted(tasks_dir.iterdir()) if (d / "task.yaml").is_file()}


def test_files(test_patch: str) -> list[str]:
    return changed_paths(test_patch)


def render_eval_sh(task: SweTask, files_at_base: set[str]) -> str:
    """eval.sh in SWE-bench's convention: reset tests, apply test.patch, run, reset."""
    existing = [p for p in test_files(task.test_patch) if p in files_at_base]
    reset = f"git checkout {task.base_commit} -- {' '.join(existing)}" if existing else ":"
    patch = task.test_patch if task.test_patch.endswith("\n") else task.test_patch + "\n"
    return (
        "#!/bin/bash\n"
        "set -uxo pipefail\n"
        "cd /testbed\n"
        "git config --global --add safe.directory /testbed\n"
        f"{reset}\n"
        f"git apply --verbose - <<'{HEREDOC}'\n"
        f"{patch}"
        f"{HEREDOC}\n"
        ": '>>>>> Start Test Output'\n"
        f"{PYTEST_CMD}\n"
        ": '>>>>> End Test Output'\n"
        f"{reset}\n"
    )


def render_dockerfile(task: SweTask) -> str:
    """Rebuilds /testbed at base_commit from repo/ with the same fixed identity.

    The files belong to uid 1000, the user dgm-sandbox runs as.
    """
    ident = " ".join(f"{k}='{v}'" for k, v in gitrepo.IDENTITY.items())
    exclude = gitrepo.EXCLUDES.replace("\n", "\\n")
    return (
        "# Built by swebench (`swebench eval --task-repo`) or by hand; build context = this folder.\n"
        "ARG BASE_IMAGE=dgm-sandbox\n"
        "FROM ${BASE_IMAGE}\n"
        "COPY --chown=1000:1000 repo /testbed\n"
        "WORKDIR /testbed\n"
        "RUN find /testbed -type f -exec chmod 0644 {} + \\\n"
        " && git init -q --template= -b main . \\\n"
        " && mkdir -p .git/info && printf '" + exclude + "' > .git/info/exclude \\\n"
        " && git -c core.autocrlf=false add -A . \\\n"
        f" && env {ident} git -c commit.gpgsign=false commit -q --no-verify -m {gitrepo.COMMIT_MESSAGE} \\\n"
        f" && test \"$(git rev-parse HEAD)\" = {task.base_commit}\n"
    )


def derived_files(task: SweTask) -> dict[str, str]:
    """The files generated from the rest of the task folder."""
    return {"eval.sh": render_eval_sh(task, set(task.files)), "Dockerfile": render_dockerfile(task)}


def check_patches(task: SweTask) -> list[str]:
    """Layout problems with the patches: gold must not touch tests, test.patch only tests."""
    problems = []
    for name, text, want_tests in (("gold.patch", task.gold_patch, False),
                                   ("test.patch", task.test_patch, True)):
        blocks = split_diff(text)[1]
        if not blocks:
            problems.append(f"{name} has no diff blocks")
        for b in blocks:
            if any(is_test_path(p) for p in b.paths) != want_tests:
                problems.append(f"{name} {'must' if want_tests else 'must not'} only touch tests: "
                                f"{b.paths}")
    return problems
