"""Clean after kills: the unsafe backend's whole process tree dies at the limit and with the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

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
        survivors = [] if gone_within(marker, 3) else with_marker(marker)
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
        assert not survivors


def test_the_tree_dies_with_the_run(tmp_path):
    """SIGKILL the process that runs the sandbox: the agent and its escapes die too."""
    marker = f"{300 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**6}"
    script = ESCAPES.format(s=marker) + f"sleep {marker}"
    code = ("from dgm.sandbox import Limits; from dgm.sandbox.local import LocalSandbox; "
            f"LocalSandbox().run('', ['sh', '-c', {script!r}], limits=Limits(seconds=600))")
    host = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        end, steady = time.monotonic() + 90, 0
        while steady < 3 and time.monotonic() < end:  # host, guard, sh, 4 sleeps, a python
            steady = steady + 1 if len(with_marker(marker)) >= 8 else 0
            time.sleep(0.2)
        assert steady == 3, with_marker(marker)
        host.send_signal(signal.SIGKILL)
        host.wait()
        assert gone_within(marker, 5), f"survivors: {with_marker(marker)}"
    finally:  # never leave our own processes behind, whatever failed
        host.kill()
        host.wait()
        for pid in with_marker(marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _leftovers(tmp: Path, pids: set[int]) -> dict[str, list[str]]:
    """What runs with these pids left: entries in TMPDIR, mounts under it or named by them,
    cgroups named by them."""
    from dgm.engine.hygiene import _cgroup_parents

    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    mine = [m for m in mounts if m.startswith(str(tmp) + "/")
            or any(os.path.basename(m).startswith(f"dgm-slot-{p}-") for p in pids)]
    cgroups = [str(c) for parent in _cgroup_parents() for p in pids for c in parent.glob(f"dgm-{p}-*")]
    return {"dirs": sorted(p.name for p in tmp.iterdir()), "mounts": mine, "cgroups": cgroups}


@pytest.mark.slow
@pytest.mark.bwrap
def test_killed_runs_leave_nothing_after_the_next_start(tmp_path):
    """SIGKILL a bwrap run mid-evaluation several times: temp dirs, slot mounts and cgroups
    are left; the next start removes them (and leaves a live run's alone); the finished
    run leaves nothing at all."""
    from dgm.sandbox.select import bwrap_available

    ok, why = bwrap_available()
    if not ok:
        pytest.skip(why)
    from .helpers import popen, toy_args

    def bwrap_args() -> list[str]:
        return [a for a in toy_args(arch, 40, "--workers", "2") if a != "--unsafe"] + ["--sandbox", "bwrap"]

    tmp, arch = tmp_path / "tmp", tmp_path / "archive"
    tmp.mkdir()
    live = subprocess.Popen(["sleep", "300"])  # a live run's directory must survive sweeps
    (tmp / f"dgm-run-{live.pid}-run-live-x").mkdir()
    killed: set[int] = set()
    try:
        for delay in (0.0, 0.01, 0.05, 0.0):
            proc = popen(bwrap_args(), env={"TMPDIR": str(tmp)})
            t0 = time.monotonic()
            while not _leftovers(tmp, {proc.pid})["mounts"] and time.monotonic() - t0 < 60:
                time.sleep(0.005)  # kill it mid-evaluation: a slot is mounted
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed.add(proc.pid)
        left = _leftovers(tmp, killed)  # what the kills left, all together
        seen = {k: len(v) for k, v in left.items()}
        seen["dirs"] -= 1  # the live run's
        assert seen["dirs"] > 0 and seen["mounts"] + seen["cgroups"] > 0, seen
        proc = popen(bwrap_args(), env={"TMPDIR": str(tmp)})
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        assert "removed what dead runs left" in err
        assert _leftovers(tmp, killed | {proc.pid}) == {
            "dirs": [f"dgm-run-{live.pid}-run-live-x"], "mounts": [], "cgroups": []}
    finally:
        live.kill()
        live.wait()


CLAIM_SCRIPT = """
import os, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import dgm
from dgm.engine import hygiene

parent = Path(tempfile.gettempdir())  # $TMPDIR: another run's directory
own = hygiene.claim()
print(own.parent == parent.parent, own.name.startswith(f"dgm-run-{os.getpid()}-"), len(own.name) <= 30)
hygiene.release()
print(os.environ["TMPDIR"] == str(parent), tempfile.gettempdir() == str(parent), not own.exists())
dgm.Run({"suites": [sys.argv[3]], "seed_agent": sys.argv[4], "children": 1, "workers": 1,
         "sandbox": "unsafe"}, archive=sys.argv[2], unsafe=True, reporter=None).start()
print(os.environ["TMPDIR"] == str(parent), tempfile.gettempdir() == str(parent),
      not [p for p in parent.parent.iterdir() if p.name.startswith(f"dgm-run-{os.getpid()}-")])
"""


def test_a_run_dir_is_short_never_nested_and_given_back_by_a_library_run(tmp_path):
    """AF_UNIX socket paths under a run's directory (the gateway's, Ray's) are capped at
    107 bytes: a run started with another run's directory as $TMPDIR puts its own beside it,
    and a library Run gives $TMPDIR back when it ends, so later runs do not nest in it."""
    base = tmp_path / "tmp"
    outer = base / "dgm-run-1-abcdefgh"  # pid 1 is alive: never swept
    outer.mkdir(parents=True)
    toy = ROOT / "tests" / "loop" / "toy"
    r = subprocess.run([sys.executable, "-c", CLAIM_SCRIPT, str(ROOT), str(tmp_path / "a"),
                        str(toy / "suite"), str(toy / "agent")],
                       capture_output=True, text=True, timeout=180,
                       env={**os.environ, "TMPDIR": str(outer)})
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ["True"] * 9, r.stdout + r.stderr[-2000:]
