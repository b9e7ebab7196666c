"""In-sandbox: grade one Polyglot answer; the host reads the results.

    python3 run_tests.py --job DIR --testbed SLUG --timeout SECONDS

DIR holds ``<slug>/`` (``--testbed``: a fresh checkout of the exercise's stubs), ``model.patch``
(the answer, blocks touching protected files already dropped by the host),
``protected/`` (the pristine tests and every non-solution file) and
``command.json`` (``{"argv": [...]}``, the language's test command). As Aider's
harness: apply the answer, delete any file it added that is not a solution
file, put the pristine files back over whatever it did (a symlink in their
way is an error, not followed), run the command. Writes
``result.json`` and ``test_output.txt``; the verdict is the host's.
Patch application is swe-mini's (``/harness/grade.py``, mounted read-only).
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
from grade import apply_patch  # noqa: E402  (swe-mini's harness)


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--job", required=True)
    ap.add_argument("--testbed", required=True)
    ap.add_argument("--timeout", type=float, default=180.0)
    args = ap.parse_args(argv)
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
            try:
                build = d / ".build"
                build.mkdir(exist_ok=True)
                p = subprocess.run(cmd, cwd=testbed, env=_env(build), capture_output=True,
                                   timeout=args.timeout)
                res["exit_code"] = p.returncode
                output = (p.stdout + p.stderr).decode("utf-8", "replace")
            except subprocess.TimeoutExpired as exc:
                res["timed_out"] = True
                output = ((exc.stdout or b"") + (exc.stderr or b"")).decode("utf-8", "replace")
                output += f"\n[tests timed out after {args.timeout:g} s]\n"
    except Exception as exc:  # the job's error instead of a traceback
        res["error"] = f"{type(exc).__name__}: {exc}"
    res["seconds"] = round(time.monotonic() - start, 3)
    (d / "test_output.txt").write_text(output)
    (d / "result.json").write_text(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
