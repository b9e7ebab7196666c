"""In-sandbox: grade one swe-mini answer; the result goes to the host on stdout.

    python3 grade.py --job DIR --timeout SECONDS

DIR holds ``testbed/`` (a fresh checkout at the base commit), ``model.patch``
(the answer, test-file blocks already stripped by the host), ``test.patch``
(the hidden tests), ``tests.json`` (``{"fail_to_pass": [...]}``) and optionally
``spec.json`` (the swe-bench suite's per-repository spec: install commands,
pythonpath, extra pytest arguments such as the test files to run, env). As
SWE-bench's harness:

1. apply model.patch (``git apply``, then ``patch --fuzz=5`` as fallback);
2. restore every test file the patch changed anyway (tracked: checked out
   from HEAD; new: deleted), so the answer can never edit tests;
3. apply test.patch;
4. run ``python3 -I -m pytest -rA`` in the testbed with pytest's own
   configuration replaced (``-c /dev/null``; plugin autoload off), so repo
   files such as pytest.ini, conftest.py or a ``pytest.py`` cannot steer it.

The code under test must not be able to write its own grade, so:

- outcomes come from ``dgm_report`` (a plugin loaded from this read-only
  harness) over a pipe this process opened before the tests started, never
  from a file in the test tree or from the printed log;
- each FAIL_TO_PASS test also runs alone, in its own pytest process, whose
  exit status is the second signal the host cross-checks;
- this process is the tests' child subreaper and is not dumpable: after every
  pytest run it kills every process the tests left (a double fork cannot
  escape it), and the tests can neither open its file descriptors nor read
  its memory through /proc;
- the result is one JSON line, printed on this process's stdout (which no
  test process holds) only after all of that: ``DGM-GRADE {json}``.

``test_output.txt`` is still written into DIR, for people to read; the host
never grades from it. One task per sandboxed call, as SWE-bench uses one
container per instance: code under test can reach only its own job.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path, PurePosixPath

HARNESS = str(Path(__file__).resolve().parent)
RESULT_MARK = "DGM-GRADE "
_PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 4, 36
# The plugin is imported from the harness before pytest reads any repository file.
BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); import dgm_report; del sys.path[0]; "
        "import pytest; sys.exit(pytest.main(sys.argv[3:], plugins=[dgm_report.Plugin(int(sys.argv[2]))]))")

TEST_DIR_NAMES = {"test", "tests", "testing"}  # copy of codingkit.patches.is_test_path


def is_test_path(path: str) -> bool:
    parts = PurePosixPath(path.strip("/")).parts
    if not parts:
        return False
    name = parts[-1]
    if any(p in TEST_DIR_NAMES for p in parts[:-1]) or name in TEST_DIR_NAMES:
        return True
    return (name == "conftest.py" or (name.startswith("test_") and name.endswith(".py"))
            or name.endswith("_test.py"))


def _env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def _run(cmd: list[str], cwd: Path, timeout: float = 60) -> tuple[int, str]:
    try:
        p = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, f"{' '.join(cmd)}: timed out"
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


GIT = ["git", "-c", "safe.directory=*", "-c", "core.hooksPath=/dev/null"]


def apply_patch(testbed: Path, patch: Path) -> tuple[bool, str]:
    if patch.stat().st_size == 0:
        return True, "empty patch: nothing to apply\n"
    log = ""
    for cmd in (GIT + ["apply", "--verbose", "--whitespace=nowarn", str(patch)],
                ["patch", "--batch", "--forward", "--no-backup-if-mismatch", "--fuzz=5", "-p1",
                 "-i", str(patch)]):
        if shutil.which(cmd[0]) is None:
            continue
        code, out = _run(cmd, testbed)
        shown = [c for c in cmd if not c.startswith(("-c", "safe.", "core."))]
        log += f"$ {' '.join(shown)}\n{out}"
        if code == 0:
            return True, log
        _run(GIT + ["checkout", "-q", "--", "."], testbed)  # undo a partial `patch` run
        _run(GIT + ["clean", "-fdq"], testbed)
    return False, log


def restore_tests(testbed: Path) -> list[str]:
    """Undo changes to test paths; returns the paths it restored or removed."""
    code, out = _run(GIT + ["status", "--porcelain=v1", "-z", "--untracked-files=all"], testbed)
    if code != 0:
        raise RuntimeError(f"git status failed: {out}")
    entries = out.split("\0")
    restored: list[str] = []
    i = 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        xy, path = entry[:2], entry[3:]
        paths = [path]
        if "R" in xy or "C" in xy:  # the next field is the rename source
            paths.append(entries[i])
            i += 1
        for p in paths:
            if not is_test_path(p):
                continue
            target = testbed / p
            if xy == "??":
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                elif target.exists() or target.is_symlink():
                    target.unlink()
            else:
                if target.is_symlink() or target.is_file():
                    target.unlink()
                _run(GIT + ["checkout", "-q", "HEAD", "--", p], testbed)
            restored.append(p)
    return restored


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _descendants() -> list[int]:
    """Pids whose parent chain reaches this process (orphans reparent here: we are the subreaper)."""
    me, parent = os.getpid(), {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    parent[int(name)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    out = []
    for pid in parent:
        p, seen = pid, 0
        while p in parent and p != me and seen < 4096:
            p, seen = parent[p], seen + 1
        if p == me and pid != me:
            out.append(pid)
    return out


def kill_leftovers() -> int:
    """SIGKILL every process the tests left behind and reap it; returns how many there were."""
    killed = 0
    for _ in range(100):
        pids = _descendants()
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGSTOP)  # stop first, so none can fork while we kill
            except ProcessLookupError:
                pass
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        _reap()
        time.sleep(0.01)
    _reap()
    return killed


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _drain(fd: int, sink: list[bytes], cap: int) -> threading.Thread:
    def run() -> None:
        size = 0
        while True:
            try:
                data = os.read(fd, 1 << 16)
            except OSError:
                break
            if not data:
                break
            if size < cap:
                sink.append(data[:cap - size])
                size += len(data)
        os.close(fd)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def statuses(events: list[dict]) -> tuple[dict[str, str], list[str]]:
    """Per-test status as ``pytest -rA`` would print it, and any inconsistency found."""
    seen: dict[tuple[str, str], dict] = {}
    problems: list[str] = []
    for e in events:
        key = (str(e.get("id")), str(e.get("when")))
        if key in seen:
            problems.append(f"two reports for {key[0]} ({key[1]})")
        seen[key] = e
    status: dict[str, str] = {}
    for (tid, when), e in seen.items():
        out, xf = e.get("outcome"), bool(e.get("xfail"))
        if when == "call":
            s = {"passed": "XPASS" if xf else "PASSED", "failed": "FAILED",
                 "skipped": "XFAIL" if xf else "SKIPPED"}.get(out, "FAILED")
            if status.get(tid) != "ERROR":
                status[tid] = s
        elif out == "failed":
            status[tid] = "ERROR"
        elif when == "setup" and out == "skipped":
            status.setdefault(tid, "XFAIL" if xf else "SKIPPED")
    return status, problems


def run_pytest(testbed: Path, timeout: float, select: list[str] = (), spec: dict | None = None) -> dict:
    """One pytest run with the report plugin; every process it left is dead when this returns.

    ``select`` names the tests to run; without it the spec's ``test_args`` (swe-bench) apply.
    """
    spec = spec or {}
    paths = " ".join(str(testbed / p) for p in spec.get("pythonpath", ["."]))
    rfd, wfd = os.pipe()
    cmd = [sys.executable, "-I", "-c", BOOT, HARNESS, str(wfd), "-rA", "-p", "no:cacheprovider",
           "-c", os.devnull, "--rootdir", str(testbed), "-o", f"pythonpath={paths}",
           *(select or spec.get("test_args", []))]
    out: list[bytes] = []
    rep: list[bytes] = []
    try:
        proc = subprocess.Popen(cmd, cwd=testbed, env={**spec.get("env", {}), **_env()},
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(wfd,))
    finally:
        os.close(wfd)
    readers = [_drain(rfd, rep, 8 << 20), _drain(os.dup(proc.stdout.fileno()), out, 4 << 20)]
    proc.stdout.close()
    timed_out = False
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out, code = True, None
        proc.kill()
        proc.wait()
    leftovers = kill_leftovers()
    for t in readers:  # every writer is dead now, so both pipes reach EOF
        t.join(timeout=10)
    events, problems, ended, tamper = [], [], False, []
    for line in b"".join(rep).decode("utf-8", "replace").splitlines():
        try:
            e = json.loads(line)
        except ValueError:
            problems.append("unreadable line on the report pipe")
            continue
        if not isinstance(e, dict):
            problems.append("unexpected data on the report pipe")
        elif e.get("t") == "report":
            if ended:
                problems.append("a report after the end of the session")
            events.append(e)
        elif e.get("t") == "end":
            if ended:
                problems.append("two ends of session")
            ended = True
        elif e.get("t") == "tamper":
            tamper.append(str(e.get("why"))[:200])
        elif e.get("t") != "collect_error":
            problems.append("unexpected data on the report pipe")
    status, dup = statuses(events)
    log = b"".join(out).decode("utf-8", "replace")
    if timed_out:
        log += f"\n[tests timed out after {timeout:g} s]\n"
    return {"exit_code": code, "timed_out": timed_out, "status": status, "complete": ended,
            "tamper": tamper, "problems": (problems + dup)[:20], "leftovers": leftovers, "log": log}


def read_result(stdout: str) -> dict | None:
    """The result dict from a grade.py stdout (the last result line), for callers outside the host."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    return None


def install(testbed: Path, spec: dict, timeout: float) -> tuple[bool, str]:
    """The repository's set-up commands (swe-bench's spec table), offline, in the testbed."""
    log = ""
    for command in spec.get("install", []):
        try:
            p = subprocess.run(["bash", "-c", command], cwd=testbed, env={**spec.get("env", {}), **_env()},
                               capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, log + f"$ {command}\n[timed out after {timeout:g} s]\n"
        kill_leftovers()  # nothing an install step started may outlive it into the tests
        log += f"$ {command}\n" + (p.stdout + p.stderr).decode("utf-8", "replace")[-4000:]
        if p.returncode != 0:
            return False, log + f"[exit code {p.returncode}]\n"
    return True, log


def grade_job(d: Path, timeout: float) -> dict:
    testbed = d / "testbed"
    start = time.monotonic()
    res: dict = {"applied": False, "restored": [], "test_patch_applied": False,
                 "exit_code": None, "timed_out": False, "error": ""}
    output = ""
    try:
        tests = d / "tests.json"
        f2p = json.loads(tests.read_text()).get("fail_to_pass", []) if tests.is_file() else []
        res["applied"], log = apply_patch(testbed, d / "model.patch")
        res["apply_log"] = log[-3000:]
        if res["applied"]:
            res["restored"] = restore_tests(testbed)
            ok, log = apply_patch(testbed, d / "test.patch")
            res["test_patch_applied"], res["test_patch_log"] = ok, log[-3000:]
            spec = json.loads((d / "spec.json").read_text()) if (d / "spec.json").is_file() else {}
            if ok and spec.get("install"):
                ok, res["install_log"] = install(testbed, spec, timeout)
                res["installed"] = ok
            if ok:
                # Each FAIL_TO_PASS test alone first, then the full run (as SWE-bench's).
                res["alone"] = {}
                for tid in f2p:
                    one = run_pytest(testbed, timeout, [tid], spec)
                    res["alone"][tid] = {"exit_code": one["exit_code"], "status": one["status"].get(tid),
                                         "complete": one["complete"], "tamper": one["tamper"],
                                         "problems": one["problems"]}
                full = run_pytest(testbed, timeout, spec=spec)
                output = full.pop("log")
                res.update({"exit_code": full["exit_code"], "timed_out": full["timed_out"],
                            "status": full["status"], "complete": full["complete"],
                            "tamper": full["tamper"], "problems": full["problems"],
                            "leftovers": full["leftovers"]})
    except Exception as exc:  # report it as the job's error instead of a traceback
        res["error"] = f"{type(exc).__name__}: {exc}"
    res["seconds"] = round(time.monotonic() - start, 3)
    try:
        (d / "test_output.txt").write_text(output)  # for people; the host does not grade from it
    except OSError:
        pass
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--job", required=True)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args(argv)
    _prctl(_PR_SET_DUMPABLE, 0)        # tests cannot open /proc/<this>/fd/1 or read our memory
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)  # orphans of the tests become our children, to be killed
    res = grade_job(Path(args.job), args.timeout)
    kill_leftovers()
    sys.stdout.write("\n" + RESULT_MARK + json.dumps(res) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
