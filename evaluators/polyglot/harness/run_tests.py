"""In-sandbox: grade one Polyglot answer; the host reads the results.

    python3 run_tests.py --job DIR --testbed SLUG --timeout SECONDS

DIR holds ``<slug>/`` (``--testbed``: a fresh checkout of the exercise's stubs), ``model.patch``
(the answer, blocks touching protected files already dropped by the host),
``protected/`` (the pristine tests and every non-solution file) and
``command.json`` (``{"argv": [...]}``, the language's test command). As Aider's
harness: apply the answer, delete any file it added that is not a solution
file, put the pristine files back over whatever it did (a symlink in their
way is an error, not followed), run the command. The code under test runs as this process's user and can write
anywhere in DIR, so nothing it could write is graded: this process is its child
subreaper and not dumpable (swe-mini's grader, ``/harness/grade.py``, mounted
read-only: its patch application and leftover-killing are reused), kills every
process the tests left, and only then prints the result, test output included,
as one ``DGM-GRADE {json}`` line on its own stdout, which no test process holds.
``test_output.txt`` is still written for people; the verdict is the host's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, "/harness")
from grade import (  # noqa: E402  (swe-mini's harness)
    _PR_SET_CHILD_SUBREAPER,
    _PR_SET_DUMPABLE,
    RESULT_MARK,
    _drain,
    _prctl,
    apply_patch,
    kill_leftovers,
)

LOG_LIMIT = 100_000  # characters of test output in the result line (its tail; 1 MiB of stdout is kept)


def _env(build: Path) -> dict[str, str]:
    """Toolchain state goes to ``build`` (in the job dir): the sandbox's /tmp is mounted noexec."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOCACHE": f"{build}/go-cache", "GOPATH": f"{build}/go",
            "GOTMPDIR": str(build), "GOTOOLCHAIN": "local", "CARGO_HOME": f"{build}/cargo",
            "CARGO_TARGET_DIR": f"{build}/target", "CARGO_NET_OFFLINE": "true", "BUILD_DIR": f"{build}/cmake",
            "NODE_PATH": "/usr/share/nodejs:/usr/lib/nodejs", "CI": "true"}


def restore(testbed: Path, protected: Path) -> list[str]:
    """Copy every protected file over the testbed; refuse to write through a symlink."""
    done = []
    for src in sorted(p for p in protected.rglob("*") if p.is_file()):
        rel = src.relative_to(protected)
        cur = testbed
        for part in rel.parts[:-1]:
            cur = cur / part
            if cur.is_symlink() or (cur.exists() and not cur.is_dir()):
                raise RuntimeError(f"{cur.relative_to(testbed)} is in the way of {rel}")
            cur.mkdir(exist_ok=True)
        target = testbed / rel
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)
        shutil.copyfile(src, target)
        done.append(str(rel))
    return done


def remove_extras(testbed: Path, keep: set[str]) -> list[str]:
    """Delete every file (or link) that is neither a solution file nor protected."""
    removed = []
    for root, dirs, names in os.walk(testbed):
        dirs[:] = [x for x in dirs if not (root == str(testbed) and x == ".git")]
        for name in names + [x for x in dirs if os.path.islink(os.path.join(root, x))]:
            path = Path(root) / name
            rel = str(path.relative_to(testbed))
            if rel not in keep:
                path.unlink()
                removed.append(rel)
    return sorted(removed)


def run_command(cmd: list[str], cwd: Path, env: dict[str, str],
                timeout: float) -> tuple[int | None, bool, str]:
    """Run the test command; (exit code, timed out, output). Its output is read until the
    command exits, then every process it left is killed: one that holds the output pipe
    open cannot keep the grader waiting."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out: list[bytes] = []
    reader = _drain(os.dup(proc.stdout.fileno()), out, 4 << 20)
    proc.stdout.close()
    timed_out, code = False, None
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        proc.wait()
    kill_leftovers()
    reader.join(timeout=10)  # every writer is dead now: the pipe reaches EOF
    return code, timed_out, b"".join(out).decode("utf-8", "replace")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--job", required=True)
    ap.add_argument("--testbed", required=True)
    ap.add_argument("--timeout", type=float, default=180.0)
    args = ap.parse_args(argv)
    _prctl(_PR_SET_DUMPABLE, 0)        # the tests cannot open /proc/<this>/fd/1 or read our memory
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)  # orphans of the tests become our children, to be killed
    d = Path(args.job)
    testbed = d / Path(args.testbed).name
    res: dict = {"applied": False, "exit_code": None, "timed_out": False, "error": ""}
    output, start = "", time.monotonic()
    try:
        res["applied"], res["apply_log"] = apply_patch(testbed, d / "model.patch")
        if res["applied"]:
            job = json.loads((d / "command.json").read_text())
            protected = {str(p.relative_to(d / "protected")) for p in (d / "protected").rglob("*") if p.is_file()}
            res["removed"] = remove_extras(testbed, set(job["solution"]) | protected)
            res["restored"] = len(restore(testbed, d / "protected"))
            cmd = job["argv"]
            build = d / ".build"
            build.mkdir(exist_ok=True)
            res["exit_code"], res["timed_out"], output = run_command(cmd, testbed, _env(build),
                                                                     args.timeout)
            if res["timed_out"]:
                output += f"\n[tests timed out after {args.timeout:g} s]\n"
    except Exception as exc:  # the job's error instead of a traceback
        res["error"] = f"{type(exc).__name__}: {exc}"
    res["leftovers"] = kill_leftovers()
    res["seconds"] = round(time.monotonic() - start, 3)
    res["log"] = output[-LOG_LIMIT:]
    try:
        (d / "test_output.txt").write_text(output)  # for people; the host does not grade from it
    except OSError:
        pass
    sys.stdout.write("\n" + RESULT_MARK + json.dumps(res) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
