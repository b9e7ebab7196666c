"""Run a coding agent's ``solve`` command on one testbed and capture its diff.

The contract (docs/coding-suites.md): inside the sandbox the agent's directory
is ``/agent`` (read-only, also the working directory), the repository to
change is ``/testbed`` (writable, a git repository), ``/scratch`` is writable
and holds ``problem.md``; the harness runs::

    <agent.toml [commands].solve ...> --problem-file /scratch/problem.md \
        --repo /testbed --out /scratch/out

The exit code is ignored. Whatever the agent left changed in /testbed is its
answer: a second sandboxed call diffs the tree against a private copy of the
base git directory (``harness/capture.py``), so the agent cannot forge the diff
through its own ``.git``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from dgm.sandbox.base import Limits, Mount, RunResult

from . import gitrepo
from .safefs import list_files, read_beneath

HARNESS_DIR = Path(__file__).resolve().parent.parent / "harness"
PROBLEM_FILE = "/scratch/problem.md"
OUT_DIR = "/scratch/out"
TRANSCRIPT_TAIL = 6000   # bytes of transcript kept for a proposer
STREAM_TAIL = 3000       # bytes of the agent's stdout / stderr kept
CAPTURE_LIMITS = Limits(seconds=120, memory_mb=2048, pids=64, file_size_mb=256)


def solve_argv(solve: Sequence[str]) -> list[str]:
    return [*solve, "--problem-file", PROBLEM_FILE, "--repo", "/testbed", "--out", OUT_DIR]


@dataclass
class AgentRun:
    """What happened when an agent worked on one task."""

    task_id: str
    patch: str = ""
    patch_bytes: int = 0
    seconds: float = 0.0
    exit_code: int | None = None
    timed_out: bool = False
    oom_killed: bool = False
    problem: str = ""          # why no usable patch exists (empty when there is one, or none was made)
    stdout_tail: str = ""
    stderr_tail: str = ""
    transcript_tail: str = ""
    image_digest: str | None = None

    def describe(self) -> str:
        how = ("timed out" if self.timed_out else "was killed (out of memory)" if self.oom_killed
               else f"exited with code {self.exit_code}")
        text = f"agent {how} after {self.seconds:.1f} s; patch: {self.patch_bytes} bytes"
        return text + (f"; {self.problem}" if self.problem else "")


def run_agent(*, task_id: str, solve: Sequence[str], agent_dir: Path, testbed: Path,
              problem_text: str, taskdir: Path, sandbox, image: str, limits: Limits,
              env: dict[str, str], network: str | None, max_patch_bytes: int,
              log: Callable[[str], None] = lambda line: None,
              extra_mounts: Sequence[Mount] = ()) -> AgentRun:
    """Run the agent on ``testbed`` (a repo at its base commit) and capture its diff."""
    scratch, capture = taskdir / "scratch", taskdir / "capture"
    (scratch / "out").mkdir(parents=True)
    capture.mkdir()
    (scratch / "problem.md").write_text(problem_text)
    base_git = taskdir / "base.git"
    gitrepo.copy_git_dir(testbed, base_git)

    start = time.monotonic()
    rr: RunResult = sandbox.run(
        image, solve_argv(solve),
        mounts=[Mount(agent_dir, "/agent"), Mount(testbed, "/testbed", writable=True),
                Mount(scratch, "/scratch", writable=True), *extra_mounts],  # e.g. the model gateway
        env=dict(env), limits=limits, network=network, workdir="/agent")
    run = AgentRun(task_id, exit_code=rr.exit_code, timed_out=rr.timed_out, oom_killed=rr.oom_killed,
                   stdout_tail=rr.stdout[-STREAM_TAIL:], stderr_tail=rr.stderr[-STREAM_TAIL:],
                   image_digest=rr.image_digest)
    run.transcript_tail = _transcript(scratch)
    log(f"{task_id}: agent {rr.reason or 'exited 0'} in {rr.seconds:.1f} s")

    cap = sandbox.run(
        image, ["python3", "/harness/capture.py", "--git-dir", "/base.git", "--work-tree", "/testbed",
                "--out", "/capture/model.patch"],
        mounts=[Mount(HARNESS_DIR, "/harness"), Mount(base_git, "/base.git", writable=True),
                Mount(testbed, "/testbed"), Mount(capture, "/capture", writable=True)],
        env={}, limits=CAPTURE_LIMITS, network=None, workdir="/capture")
    run.seconds = time.monotonic() - start
    got = read_beneath(capture, "model.patch", max_patch_bytes + 1, tail=False)
    if not cap.ok or got is None:
        run.problem = f"could not capture the diff ({cap.reason}): {cap.stderr[-500:]}"
        return run
    text, size = got
    run.patch_bytes = size
    if size > max_patch_bytes:
        run.problem = f"patch of {size} bytes exceeds the limit of {max_patch_bytes} bytes"
        return run
    run.patch = text
    return run


def _transcript(scratch: Path) -> str:
    """The tail of what the agent wrote to its out dir, transcript.md first."""
    names = list_files(scratch, "out")
    names.sort(key=lambda n: (n != "transcript.md", n))
    parts, budget = [], TRANSCRIPT_TAIL
    for name in names:
        if budget <= 0:
            break
        got = read_beneath(scratch, f"out/{name}", budget)
        if got is None:
            continue
        text, size = got
        cut = f" (last {len(text.encode())} of {size} bytes)" if size > len(text.encode()) else ""
        parts.append(f"--- out/{name}{cut} ---\n{text}")
        budget -= len(text.encode())
    return "\n".join(parts)
