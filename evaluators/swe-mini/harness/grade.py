"""In-sandbox: grade one swe-mini answer; the host reads the results.

    python3 grade.py --job DIR --timeout SECONDS

DIR holds ``testbed/`` (a fresh checkout at the base commit), ``model.patch``
(the answer, test-file blocks already stripped by the host) and
``test.patch`` (the hidden tests), and optionally ``spec.json`` (the swe-bench
suite's per-repository spec: install commands, pythonpath, extra pytest
arguments such as the test files to run, env). As SWE-bench's harness:

1. apply model.patch (``git apply``, then ``patch --fuzz=5`` as fallback);
2. restore every test file the patch changed anyway (tracked: checked out
   from HEAD; new: deleted), so the answer can never edit tests;
3. apply test.patch;
4. run ``python3 -I -m pytest -rA`` in the testbed with pytest's own
   configuration replaced (``-c /dev/null``; plugin autoload off), so repo
   files such as pytest.ini, conftest.py or a ``pytest.py`` cannot steer it.

Writes ``result.json`` and ``test_output.txt`` into DIR. Grading (reading the
log, F2P/P2P) is the host's job. One task per sandboxed call, as SWE-bench
uses one container per instance: code under test can reach only its own job.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path, PurePosixPath

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


def run_tests(testbed: Path, timeout: float, spec: dict | None = None) -> tuple[int | None, bool, str]:
    spec = spec or {}
    paths = " ".join(str(testbed / p) for p in spec.get("pythonpath", ["."]))
    cmd = [sys.executable, "-I", "-m", "pytest", "-rA", "-p", "no:cacheprovider", "-c", os.devnull,
           "--rootdir", str(testbed), "-o", f"pythonpath={paths}", *spec.get("test_args", [])]
    try:
        p = subprocess.run(cmd, cwd=testbed, env={**spec.get("env", {}), **_env()}, capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"") + (exc.stderr or b"")
        return None, True, out.decode("utf-8", "replace") + f"\n[tests timed out after {timeout:g} s]\n"
    return p.returncode, False, (p.stdout + p.stderr).decode("utf-8", "replace")


def install(testbed: Path, spec: dict, timeout: float) -> tuple[bool, str]:
    """The repository's set-up commands (swe-bench's spec table), offline, in the testbed."""
    log = ""
    for command in spec.get("install", []):
        try:
            p = subprocess.run(["bash", "-c", command], cwd=testbed, env={**spec.get("env", {}), **_env()},
                               capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, log + f"$ {command}\n[timed out after {timeout:g} s]\n"
        log += f"$ {command}\n" + (p.stdout + p.stderr).decode("utf-8", "replace")[-4000:]
        if p.returncode != 0:
            return False, log + f"[exit code {p.returncode}]\n"
    return True, log


def grade_job(d: Path, timeout: float) -> None:
    testbed = d / "testbed"
    start = time.monotonic()
    res: dict = {"applied": False, "restored": [], "test_patch_applied": False,
                 "exit_code": None, "timed_out": False, "error": ""}
    output = ""
    try:
        res["applied"], res["apply_log"] = apply_patch(testbed, d / "model.patch")
        if res["applied"]:
            res["restored"] = restore_tests(testbed)
            ok, log = apply_patch(testbed, d / "test.patch")
            res["test_patch_applied"], res["test_patch_log"] = ok, log
            spec = json.loads((d / "spec.json").read_text()) if (d / "spec.json").is_file() else {}
            if ok:
                ok, res["install_log"] = install(testbed, spec, timeout)
                res["installed"] = ok
            if ok:
                res["exit_code"], res["timed_out"], output = run_tests(testbed, timeout, spec)
    except Exception as exc:  # report it as the job's error instead of a traceback
        res["error"] = f"{type(exc).__name__}: {exc}"
    res["seconds"] = round(time.monotonic() - start, 3)
    (d / "test_output.txt").write_text(output)
    (d / "result.json").write_text(json.dumps(res))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--job", required=True)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args(argv)
    grade_job(Path(args.job), args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
