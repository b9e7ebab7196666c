"""Grade answers to swe-mini tasks: one sandboxed ``harness/grade.py`` call per task.

Host side: build a fresh checkout at the base commit, strip test-file blocks
from the answer, hand both patches to the grader; afterwards read the pytest
log and apply SWE-bench's rule (``pytestlog.grade``).
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dgm.sandbox.base import Limits, Mount

from .agentrun import HARNESS_DIR
from .patches import strip_test_changes
from .pytestlog import grade, parse_pytest_log
from .safefs import read_beneath
from .stage import Graded, GradingSettings
from .taskrepo import SweTask

LOG_LIMIT = 400_000


def _write(path: Path, text: str) -> None:
    with open(path, "w", newline="") as fh:
        fh.write(text)


def grade_patches(tasks: dict[str, SweTask], patches: dict[str, str], sandbox, workdir: Path,
                  image: str, cfg: GradingSettings) -> dict[str, Graded]:
    """Grade ``patches`` (task id -> diff text) and return a verdict per task."""
    def one(tid: str) -> tuple[str, Graded]:
        return tid, grade_one(tasks[tid], patches[tid], sandbox, workdir / tid, image, cfg)

    with ThreadPoolExecutor(max_workers=cfg.workers) as pool:
        return dict(pool.map(one, list(patches)))


def grade_one(task: SweTask, patch: str, sandbox, jobdir: Path, image: str,
              cfg: GradingSettings) -> Graded:
    if jobdir.exists():
        shutil.rmtree(jobdir)
    jobdir.mkdir(parents=True)
    task.build_testbed(jobdir / "testbed")
    kept, dropped = strip_test_changes(patch)
    _write(jobdir / "model.patch", kept)
    _write(jobdir / "test.patch", task.test_patch)
    if getattr(task, "grading_spec", None):  # swe-bench: the repository's spec-table entry
        _write(jobdir / "spec.json", json.dumps(task.grading_spec))
    timeout = cfg.seconds_per_task
    rr = sandbox.run(
        getattr(task, "image", None) or image, ["python3", "/harness/grade.py", "--job", "/job", "--timeout", f"{timeout:g}"],
        mounts=[Mount(HARNESS_DIR, "/harness"), Mount(jobdir, "/job", writable=True)],
        env={}, limits=Limits(seconds=timeout + 60, memory_mb=cfg.memory_mb, pids=256,
                              file_size_mb=256, scratch_mb=512),
        network=None, workdir="/job")
    notes = [f"ignored changes to test files: {', '.join(dropped)}"] if dropped else []
    got = read_beneath(jobdir, "result.json", 1_000_000)
    try:
        res = json.loads(got[0]) if got else None
    except ValueError:
        res = None
    if not isinstance(res, dict):
        return Graded(False, "; ".join(notes + [f"grader failed ({rr.reason})"]),
                      (rr.stdout + rr.stderr)[-3000:], rr.seconds)
    if res.get("restored"):
        notes.append(f"restored test files after applying: {', '.join(res['restored'])}")
    if res.get("error"):
        notes.append(f"grader error: {res['error']}")
    if not res.get("applied"):
        return Graded(False, "; ".join(notes + ["patch does not apply"]),
                      str(res.get("apply_log", ""))[-3000:], rr.seconds)
    if not res.get("test_patch_applied"):
        return Graded(False, "; ".join(notes + ["hidden tests do not apply on top of the patch"]),
                      str(res.get("test_patch_log", ""))[-3000:], rr.seconds)
    if res.get("installed") is False:
        return Graded(False, "; ".join(notes + ["the repository's install commands failed"]),
                      str(res.get("install_log", ""))[-3000:], rr.seconds)
    out = read_beneath(jobdir, "test_output.txt", LOG_LIMIT)
    log = out[0] if out else ""
    verdict = grade(parse_pytest_log(log), task.fail_to_pass, task.pass_to_pass)
    if res.get("timed_out"):
        notes.append(f"tests timed out after {timeout:g} s")
    return Graded(verdict.resolved, "; ".join(notes + [verdict.summary()]), log, rr.seconds)
