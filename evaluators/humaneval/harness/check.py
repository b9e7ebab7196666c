"""In-sandbox: run HumanEval checks for a batch of answers; the result goes to the host on stdout.

    python3 check.py --root DIR --jobs JOBS.json [--workers N] [--memory-mb M]

JOBS.json lists ``{"id", "dir", "entry_point", "timeout"}``; each ``dir``
(relative to ROOT) holds ``solution.py`` (the stub at the base commit),
``model.patch`` (the answer as a diff) and ``test.py`` (HumanEval's ``check``).
Every input is read into memory before any answer runs, and each answer runs
in its own temporary directory, so one answer cannot rewrite another's inputs.

Per job: apply the patch to the stub (``git apply``, ``patch`` as fallback),
then run the check in ``he_checker.py``: the task's prompt and test run in a
checker process and the answer in a separate candidate process
(``he_candidate.py``); each call of the candidate crosses a pipe and only its
returned value (plain data) comes back. The answer so never shares memory
with the checker, cannot hand it an object with a rigged ``__eq__``, and an
early ``sys.exit(0)`` or ``os._exit(0)`` is just a dead candidate.

This process is a non-dumpable child subreaper: once every check is done it
kills whatever the answers left running (a double fork cannot escape it),
then prints ``DGM-CHECK <json list of per-job dicts>`` on its stdout, which
no answer holds. Nothing the host grades from is written into ROOT.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reaper  # noqa: E402

del sys.path[0]
RESULT_MARK = "DGM-CHECK "
LOG_CHARS = 1000


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "LANG": "C.UTF-8", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.update(extra or {})
    return env


def apply_patch(workdir: Path, patch: str) -> tuple[bool, str]:
    if not patch.strip():
        return True, "empty patch"
    (workdir.parent / "model.patch").write_text(patch, newline="")
    env = _env({"GIT_CEILING_DIRECTORIES": str(workdir.parent)})
    log = ""
    for cmd in (["git", "apply", "--verbose", "--whitespace=nowarn", "../model.patch"],
                ["patch", "--batch", "--forward", "--no-backup-if-mismatch", "--fuzz=5", "-p1",
                 "-i", "../model.patch"]):
        if shutil.which(cmd[0]) is None:
            continue
        p = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, timeout=60)
        log += f"$ {cmd[0]} {cmd[1]}\n" + (p.stdout + p.stderr).decode("utf-8", "replace")
        if p.returncode == 0:
            return True, log
    return False, log


def _limits(memory_mb: int):
    def preexec() -> None:
        os.setsid()
        mem = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))
    return preexec


def run_check(job: dict, inputs: dict, memory_mb: int) -> dict:
    res = {"id": job["id"], "applied": False, "passed": False, "timed_out": False,
           "exit_code": None, "log": ""}
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="he-") as tmp:
        work = Path(tmp) / "repo"
        work.mkdir()
        (work / "solution.py").write_text(inputs["solution"])
        res["applied"], log = apply_patch(work, inputs["patch"])
        if not res["applied"]:
            res["log"] = "patch does not apply:\n" + log[-2000:]
            return res
        sol = work / "solution.py"
        if not sol.is_file() or sol.is_symlink():
            res["log"] = "solution.py was deleted or replaced"
            return res
        job_file = Path(tmp) / "job.json"
        job_file.write_text(json.dumps({"prompt": inputs["solution"], "test": inputs["test"],
                                        "entry_point": job["entry_point"], "solution": str(sol),
                                        "memory_mb": memory_mb}))
        proc = subprocess.Popen([sys.executable, "-I", str(HERE / "he_checker.py"), str(job_file)],
                                cwd=work, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, preexec_fn=_limits(memory_mb))
        try:
            out, err = proc.communicate(timeout=float(job["timeout"]))
        except subprocess.TimeoutExpired:
            res["timed_out"] = True
            out, err = b"", b""
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if res["timed_out"]:
                proc.communicate()
        res["exit_code"] = proc.returncode
        lines = out.decode("utf-8", "replace").splitlines()
        res["passed"] = (not res["timed_out"] and proc.returncode == 0 and bool(lines)
                         and lines[-1] == "PASSED")
        if res["timed_out"]:
            res["log"] = f"timed out after {job['timeout']} s"
        elif not res["passed"]:
            tail = err.decode("utf-8", "replace")[-LOG_CHARS:]
            res["log"] = (tail or "the check did not complete (no error output)")
    res["seconds"] = round(time.monotonic() - start, 3)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--jobs", required=True)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--memory-mb", type=int, default=1024)
    args = ap.parse_args(argv)
    root = Path(args.root)
    jobs = json.loads((root / args.jobs).read_text())
    inputs = {}
    for job in jobs:  # everything read before any answer runs
        d = root / job["dir"]
        inputs[job["id"]] = {"solution": (d / "solution.py").read_text(),
                             "patch": (d / "model.patch").read_text(),
                             "test": (d / "test.py").read_text()}
    reaper.not_dumpable()
    reaper.become_subreaper()
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        results = list(pool.map(lambda j: run_check(j, inputs[j["id"]], args.memory_mb), jobs))
    reaper.kill_descendants()
    sys.stdout.write("\n" + RESULT_MARK + json.dumps(results) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
