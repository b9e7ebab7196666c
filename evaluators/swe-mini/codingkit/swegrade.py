"""Grade answers to swe-mini tasks: one sandboxed ``harness/grade.py`` call per task.

Host side: reject an answer that touches the test machinery (``tamper``),
build a fresh checkout at the base commit, strip test-file blocks from the
answer, hand both patches to the grader in a fresh sandbox (the agent's is
gone by then); afterwards read the grader's result line from the sandbox's
stdout (never a file the tests could write), apply SWE-bench's rule
(``pytestlog.grade``) to the plugin-reported statuses, and cross-check every
FAIL_TO_PASS test against its separate run. Any disagreement, a tamper report
from the plugin, or a test run that did not finish is graded 0 as tampering.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dgm.sandbox.base import Limits, Mount

from .agentrun import HARNESS_DIR
from .patches import strip_test_changes
from dgm.sandbox.readback import Rejected, parse_json

from .pytestlog import grade
from .safefs import read_beneath
from .stage import Graded, GradingSettings
from .tamper import tamper_reasons
from .taskrepo import SweTask

LOG_LIMIT = 400_000
RESULT_MARK = "DGM-GRADE "  # grade.py's result line
TAMPERING = "tampering"


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


def result_line(stdout: str) -> dict | None:
    """The grader's result: the last ``DGM-GRADE`` line of its stdout, or None."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            try:
                res = parse_json(line[len(RESULT_MARK):].encode(), max_depth=8, what="grader result")
            except Rejected:
                return None
            return res if isinstance(res, dict) else None
    return None


def cross_check(res: dict, fail_to_pass: list[str]) -> list[str]:
    """Why the grader's signals cannot be trusted (empty when they agree)."""
    why = [f"the test process reported tampering: {t}" for t in res.get("tamper") or []]
    why += [f"report channel: {p}" for p in res.get("problems") or []]
    if not res.get("complete"):
        why.append("the test session did not finish (exited early)")
    status = res.get("status") or {}
    alone = res.get("alone") or {}
    for tid in fail_to_pass:
        one = alone.get(tid) or {}
        passed_full = status.get(tid) in ("PASSED", "XFAIL")
        passed_alone = one.get("exit_code") == 0 and one.get("status") in ("PASSED", "XFAIL") \
            and one.get("complete")
        why += [f"{tid} alone: {t}" for t in one.get("tamper") or []]
        if passed_full != passed_alone:
            why.append(f"{tid}: the full run says {status.get(tid) or 'missing'}, its own run says "
                       f"{one.get('status') or 'missing'} with exit code {one.get('exit_code')}")
    return why


def grade_one(task: SweTask, patch: str, sandbox, jobdir: Path, image: str,
              cfg: GradingSettings) -> Graded:
    tampered = tamper_reasons(patch)
    if tampered:
        return Graded(False, f"{TAMPERING}: the answer touches test infrastructure: " + "; ".join(tampered),
                      "", 0.0)
    if jobdir.exists():
        shutil.rmtree(jobdir)
    jobdir.mkdir(parents=True)
    task.build_testbed(jobdir / "testbed")
    kept, dropped = strip_test_changes(patch)
    _write(jobdir / "model.patch", kept)
    _write(jobdir / "test.patch", task.test_patch)
    _write(jobdir / "tests.json", json.dumps({"fail_to_pass": list(task.fail_to_pass)}))
    spec = getattr(task, "grading_spec", None)
    if spec:  # swe-bench: the repository's spec-table entry
        _write(jobdir / "spec.json", json.dumps(task.grading_spec))
    timeout = cfg.seconds_per_task
    # each F2P test alone, then the full run; install commands (swe-bench) one timeout each
    runs = 2 + len(task.fail_to_pass) + len((spec or {}).get("install", []))
    rr = sandbox.run(
        getattr(task, "image", None) or image, ["python3", "/harness/grade.py", "--job", "/job", "--timeout", f"{timeout:g}"],
        mounts=[Mount(HARNESS_DIR, "/harness"), Mount(jobdir, "/job", writable=True)],
        env={}, limits=Limits(seconds=timeout * runs + 60, memory_mb=cfg.memory_mb, pids=256,
                              file_size_mb=256, scratch_mb=512),
        network=None, workdir="/job")
    notes = [f"ignored changes to test files: {', '.join(dropped)}"] if dropped else []
    # a grader that did not exit 0 was killed or crashed: whatever it printed is not its
    # verdict (a test process may have written a line where the grader's stdout goes)
    res = result_line(rr.stdout) if rr.exit_code == 0 else None
    if res is None:
        return Graded(False, "; ".join(notes + [f"grader failed ({rr.reason})"]),
                      (rr.stdout + rr.stderr)[-3000:], rr.seconds)
    if res.get("restored"):
        notes.append(f"restored test files after applying: {', '.join(map(str, res['restored']))}")
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
    out = read_beneath(jobdir, "test_output.txt", LOG_LIMIT)  # for people to read, never graded
    log = out[0] if out else ""
    status = {str(k): str(v) for k, v in (res.get("status") or {}).items()}
    verdict = grade(status, task.fail_to_pass, task.pass_to_pass)
    if res.get("timed_out"):
        notes.append(f"tests timed out after {timeout:g} s")
    if res.get("leftovers"):
        notes.append(f"killed {res['leftovers']} processes the tests left running")
    if res.get("timed_out"):  # an unfinished session proves nothing, whatever it reported so far
        return Graded(False, "; ".join(notes + [verdict.summary() if not verdict.resolved else
                                                "unresolved: the test session did not finish"]),
                      log, rr.seconds)
    suspicious = cross_check(res, task.fail_to_pass)
    if suspicious:
        return Graded(False, "; ".join(notes + [f"{TAMPERING}: " + "; ".join(suspicious[:5])]), log,
                      rr.seconds)
    return Graded(verdict.resolved, "; ".join(notes + [verdict.summary()]), log, rr.seconds)
