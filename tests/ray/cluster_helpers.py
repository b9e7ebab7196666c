"""A real Ray cluster on this machine for the tests: a head node and worker nodes,
each its own `ray start --block` process in its own session, so a test can kill
exactly one node (every process of that session) and teardown can stop exactly
the processes it started (no machine-wide `ray stop`)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

RAY = str(Path(sys.executable).parent / "ray")
DGM = str(Path(sys.executable).parent / "dgm")
ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
TOY = ROOT / "tests" / "loop" / "toy"
SLOW = HERE / "slow"
BROKEN = HERE / "broken"
OBJECT_STORE = 100_000_000  # bytes per node: the machine is shared
# Declare a dead node dead after ~3 s instead of ~15 s (head-only setting).
FAST_HEALTH = json.dumps({"health_check_period_ms": 1000, "health_check_failure_threshold": 3})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_pids(sid: int) -> list[int]:
    """Every live process whose session id is ``sid`` (from /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if fields[0] != "Z" and int(fields[3]) == sid:
            pids.append(int(entry))
    return pids


@dataclass
class Eval:
    event: str
    pid: int
    node: str
    stage: int
    code: str
    t: float


class LocalRayCluster:
    """Head + workers on 127.0.0.1, token-authenticated, with a shared evaluation log."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.log = root / "evals.log"
        self.env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
                    "RAY_USAGE_STATS_ENABLED": "0", "DGM_RAY_TEST_LOG": str(self.log),
                    "PYTHONUNBUFFERED": "1"}
        self.nodes: dict[str, subprocess.Popen] = {}

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start_node(self, name: str, head: bool = False, timeout: float = 180, cpus: int = 1) -> None:
        args = [RAY, "start", "--block", f"--num-cpus={cpus}", f"--object-store-memory={OBJECT_STORE}",
                "--disable-usage-stats", "--node-ip-address=127.0.0.1", f"--temp-dir={self.root / name}"]
        if head:
            args += ["--head", f"--port={self.port}", "--include-dashboard=false",
                     f"--system-config={FAST_HEALTH}"]
        else:
            args += [f"--address={self.address}"]
        out = self.root / f"{name}.out"
        with open(out, "w") as f:
            proc = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
                                    env={**self.env, "DGM_RAY_TEST_NODE": name}, cwd=self.root)
        self.nodes[name] = proc
        deadline = time.monotonic() + timeout
        while "Ray runtime started" not in out.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ray node {name} did not start:\n{out.read_text()[-3000:]}")
            time.sleep(0.2)

    def kill_node(self, name: str) -> None:
        """SIGKILL every process of the node: its raylet, agents and workers (a node crash)."""
        proc = self.nodes.pop(name)
        for _ in range(100):
            pids = session_pids(proc.pid)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for name in list(self.nodes):
            self.kill_node(name)

    def evals(self) -> list[Eval]:
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text().splitlines():
            p = line.split()
            out.append(Eval(p[0], int(p[1]), p[2], int(p[3]), p[4], float(p[5])))
        return out

    def wait_for(self, pred, timeout: float = 120, what: str = "condition") -> list[Eval]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            evs = self.evals()
            if pred(evs):
                return evs
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; log:\n" +
                             (self.log.read_text() if self.log.exists() else "(empty)"))

    def clear_log(self) -> None:
        self.log.unlink(missing_ok=True)


def running(evs: list[Eval], node: str | None = None) -> list[Eval]:
    """Evaluations that started and have not ended (a pid runs one at a time)."""
    open_: dict[int, Eval] = {}
    for e in evs:
        if e.event == "start":
            open_[e.pid] = e
        else:
            open_.pop(e.pid, None)
    return [e for e in open_.values() if node is None or e.node == node]


def dgm_args(archive: Path, suite: Path, agent: Path, children: int, *extra: str) -> list[str]:
    return [DGM, "run", "--archive", str(archive), "--suite", str(suite), "--seed-agent", str(agent),
            "--children", str(children), "--unsafe", "--quiet", *extra]
