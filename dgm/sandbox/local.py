"""The *unsafe* backend: a plain subprocess, only behind an explicit ``--unsafe``.

There are no namespaces, so mount targets cannot exist: every argument and
environment value that starts with a mount target is rewritten to the host
source, and the working directory is the writable mount. Limits are a hard
timeout and rlimits; the command runs under ``tree_guard.py``, which kills its
whole process tree (setsid and double forks included) when it ends, at the limit
and when the run dies. There is no network isolation. Useful on machines with neither Docker nor bubblewrap, and in tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Mapping, Sequence

from dgm.sandbox.base import Limits, Mount, RunResult, Sandbox, cap_output

GUARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tree_guard.py")


def _rewrite(value: str, mounts: Sequence[Mount]) -> str:
    for m in sorted(mounts, key=lambda m: len(m.target), reverse=True):
        if value == m.target or value.startswith(m.target.rstrip("/") + "/"):
            return str(m.source) + value[len(m.target.rstrip("/")):]
    return value


class LocalSandbox(Sandbox):
    """Unsandboxed subprocess with timeout and rlimits (see module docstring)."""

    name = "unsafe"

    def run(self, image: str, command: Sequence[str], mounts: Sequence[Mount] = (),
            env: Mapping[str, str] | None = None, limits: Limits = Limits(),
            network: str | None = None, workdir: str = "/scratch") -> RunResult:
        tmp = tempfile.mkdtemp(prefix="dgm-unsafe-")
        try:
            return self._run(tmp, command, mounts, env, limits, workdir)
        finally:  # HOME and TMPDIR of one run: never left behind
            shutil.rmtree(tmp, ignore_errors=True)

    def _run(self, tmp: str, command: Sequence[str], mounts: Sequence[Mount],
             env: Mapping[str, str] | None, limits: Limits, workdir: str) -> RunResult:
        argv = [_rewrite(a, mounts) for a in command]
        if argv and argv[0] == "python3":
            argv[0] = sys.executable  # the engine's interpreter has the sandbox packages
        cwd = _rewrite(workdir, mounts)
        full_env = {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin",
                    "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8"}
        full_env.update({k: _rewrite(v, mounts) for k, v in (env or {}).items()})

        # The command runs under tree_guard: a subreaper that kills every descendant (setsid
        # and double forks included) when the command ends, at the limit, or when we die.
        mem, fsz = limits.memory_mb * 1024 * 1024, limits.file_size_mb * 1024 * 1024
        guarded = [sys.executable, "-I", GUARD, f"{limits.seconds + 2:g}", str(mem), str(fsz),
                   "--", *argv]
        start = time.monotonic()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(guarded, cwd=cwd if os.path.isdir(cwd) else tmp,
                                        env=full_env, stdout=out, stderr=err,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
            except OSError as exc:
                return RunResult(None, "", str(exc), backend=self.name, reason=f"cannot start: {exc}")
            timed_out = False
            try:
                proc.wait(timeout=limits.seconds)
            except subprocess.TimeoutExpired:
                timed_out = True
                proc.terminate()  # the guard ends the whole tree
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            try:  # and the group, always: background children must not outlive the run
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            seconds = time.monotonic() - start
            out.seek(0)
            err.seek(0)
            stdout = cap_output(out.read(), limits.output_bytes)
            stderr = cap_output(err.read(), limits.output_bytes)
        code = None if timed_out else proc.returncode
        reason = f"timed out after {limits.seconds:g} s" if timed_out else (
            "" if code == 0 else f"exit code {code}")
        return RunResult(code, stdout, stderr, timed_out=timed_out, seconds=seconds,
                         image_digest="host", backend=self.name, reason=reason)
