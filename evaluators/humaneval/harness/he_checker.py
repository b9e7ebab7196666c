"""In-sandbox: the checker process for one HumanEval answer.

    python3 -I he_checker.py JOB.json

JOB.json: ``{"prompt", "test", "entry_point", "solution", "memory_mb"}``.
Runs the task's own prompt (its helpers, e.g. ``poly``) and test code, the
trusted half, and calls ``check(candidate)`` where ``candidate`` is a proxy:
each call is sent over a pipe to a separate candidate process
(``he_candidate.py``) running the answer, and the returned *value* comes back
as plain data. The checker prints ``PASSED`` as its last line when ``check``
returned. It is not dumpable, so the candidate (same user) can neither read
its memory nor open its stdout through /proc; there is no secret to steal and
no object of the candidate's to compare.
"""

import builtins
import json
import os
import resource
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import he_wire  # noqa: E402
import reaper  # noqa: E402

del sys.path[0]
HERE = os.path.dirname(os.path.abspath(__file__))
MAX_REPLY = 64 << 20


def _limits(memory_mb: int):
    def preexec() -> None:
        mem = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))
    return preexec


class Candidate:
    """Calls the answer in its own process; only plain values cross."""

    def __init__(self, solution: str, entry: str, memory_mb: int) -> None:
        self.proc = subprocess.Popen([sys.executable, "-I", os.path.join(HERE, "he_candidate.py"),
                                      solution, entry], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=sys.stderr, preexec_fn=_limits(memory_mb))
        self.__name__ = entry

    def __call__(self, *args):
        try:
            self.proc.stdin.write(he_wire.dumps(list(args)))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise RuntimeError("the candidate process is gone") from None
        line = self.proc.stdout.readline(MAX_REPLY)
        if not line.endswith(b"\n"):
            try:
                code = self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
            if code is not None:
                raise RuntimeError(f"the answer's process ended with exit code {code} before "
                                   "replying (early exit?)")
            raise RuntimeError("the answer's process sent a malformed reply")
        reply = json.loads(line)
        if not isinstance(reply, dict):
            raise RuntimeError("malformed reply from the candidate")
        if "ok" in reply:
            return he_wire.decode(reply["ok"])
        exc = getattr(builtins, str(reply.get("err")), None)
        if isinstance(exc, type) and issubclass(exc, Exception):
            raise exc(reply.get("msg", ""))
        raise RuntimeError(f"{reply.get('err')}: {reply.get('msg', '')}")


def main() -> int:
    reaper.not_dumpable()
    reaper.become_subreaper()  # whatever the answer leaves running dies with the check
    with open(sys.argv[1], encoding="utf-8") as fh:
        job = json.load(fh)
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    cand = Candidate(job["solution"], job["entry_point"], int(job["memory_mb"]))
    ns = {"__name__": "__checker__"}
    exec(compile(job["prompt"], "prompt.py", "exec"), ns)
    exec(compile(job["test"], "test.py", "exec"), ns)
    ns[job["entry_point"]] = cand  # tests that name the function call the answer too
    try:
        ns["check"](cand)
    finally:
        reaper.kill_descendants()
    out.write("\nPASSED\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
