"""Clean after kills: the unsafe backend's whole process tree dies at the limit and with the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from dgm.sandbox import Limits
from dgm.sandbox.local import LocalSandbox

ROOT = Path(__file__).resolve().parents[2]


def with_marker(marker: str) -> list[int]:
    """Pids whose command line holds ``marker``."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                if marker.encode() in Path(f"/proc/{name}/cmdline").read_bytes():
                    out.append(int(name))
            except OSError:
                pass
    return out


def gone_within(marker: str, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not with_marker(marker):
            return True
        time.sleep(0.05)
    return False


ESCAPES = ("setsid sleep {s} & (sleep {s} &) ; nohup sleep {s} >/dev/null 2>&1 & "
           "python3 -c 'import os,time; os.fork() or (os.setsid(), os.fork() or time.sleep({s}))' & ")


def test_escaping_children_die_when_the_command_ends_and_at_the_limit(tmp_path):
    sb = LocalSandbox()
    for cmd_tail, seconds in (("echo done", 30), ("sleep {s}", 1)):
        marker = f"{300 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**6}"
        script = ESCAPES.format(s=marker) + cmd_tail.format(s=marker)
        r = sb.run("", ["sh", "-c", script], limits=Limits(seconds=seconds))
        assert r.timed_out == (seconds == 1), r
        assert gone_within(marker, 3), f"survivors: {with_marker(marker)}"


def test_the_tree_dies_with_the_run(tmp_path):
    """SIGKILL the process that runs the sandbox: the agent and its escapes die too."""
    marker = f"{300 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**6}"
    script = ESCAPES.format(s=marker) + f"sleep {marker}"
    code = ("from dgm.sandbox import Limits; from dgm.sandbox.local import LocalSandbox; "
            f"LocalSandbox().run('', ['sh', '-c', {script!r}], limits=Limits(seconds=600))")
    host = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    end = time.monotonic() + 30
    while len(with_marker(marker)) < 5 and time.monotonic() < end:
        time.sleep(0.05)
    assert len(with_marker(marker)) >= 5
    host.send_signal(signal.SIGKILL)
    host.wait()
    assert gone_within(marker, 5), f"survivors: {with_marker(marker)}"
