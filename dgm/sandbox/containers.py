"""One sandbox container ("box"): created idle, used for exactly one command, then destroyed.

A box is created with every restriction set (no network or an internal one,
read-only root, tmpfs /tmp, uid 1000, no capabilities, no-new-privileges,
memory = memory+swap, CPU quota, pids, file-size and core ulimits, optional
GPU device requests) and one quota'd slot per writable mount. Its main process
is the in-container runner (sandbox/runner.py) waiting on stdin. A call
attaches, sends the command, and the runner becomes it, with exactly the
environment given. When the command exits the box stops: background processes
die with its pid namespace, and only then are the slots drained. Cold runs and
the warm pool share this path; the pool merely creates boxes before they are
needed.
"""

from __future__ import annotations

import json
import os
import select
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .base import Limits
from .output import TailBuffer
from .scratch import Slot

LABEL = "dgm.sandbox"
UID = GID = 1000
RUNNER = (Path(__file__).resolve().parents[2] / "sandbox" / "runner.py").read_text()
OWNER = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"  # tells this process's boxes from others'


@dataclass(frozen=True)
class Spec:
    """Everything fixed at container creation; boxes with equal specs are interchangeable."""

    image: str
    ro: tuple[tuple[str, str], ...]  # (host source, target)
    rw: tuple[str, ...]  # targets of writable mounts (slots)
    network: str
    memory_mb: int
    cpus: float
    pids: int
    file_size_mb: int
    scratch_mb: int
    gpus: int

    @classmethod
    def make(cls, image: str, mounts, limits: Limits, network: str) -> "Spec":
        return cls(image, tuple((str(m.source), m.target) for m in mounts if not m.writable),
                   tuple(m.target for m in mounts if m.writable), network, limits.memory_mb,
                   min(limits.cpus, float(os.cpu_count() or 1)), limits.pids, limits.file_size_mb,
                   limits.scratch_mb, limits.gpus)


@dataclass
class Box:
    spec: Spec
    id: str
    pid: int
    pidfd: int | None
    slots: dict[str, Slot]
    dead: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def alive(self) -> bool:
        if self.dead:
            return False
        if self.pidfd is None:
            return os.path.exists(f"/proc/{self.pid}")
        return not select.select([self.pidfd], [], [], 0)[0]


def create_box(client, spec: Spec) -> Box:
    """Create and start an idle box for ``spec`` (about 0.2 s)."""
    from docker.types import DeviceRequest, LogConfig, Mount as DMount, Ulimit

    slots = {t: Slot(spec.scratch_mb, (UID, GID)) for t in spec.rw}
    mounts = [DMount(target=t, source=s, type="bind", read_only=True) for s, t in spec.ro]
    mounts += [DMount(target=t, source=str(slot.path), type="bind", read_only=False) for t, slot in slots.items()]
    fsize = spec.file_size_mb * 1024 * 1024
    kwargs = dict(
        command=["python3", "-I", "-S", "-c", RUNNER], init=True, stdin_open=True,
        user=f"{UID}:{GID}", working_dir="/tmp",
        network_mode=spec.network, read_only=True, hostname="sandbox",
        tmpfs={"/tmp": f"rw,nosuid,nodev,size={spec.scratch_mb}m,mode=1777"},
        mounts=mounts, mem_limit=f"{spec.memory_mb}m", memswap_limit=f"{spec.memory_mb}m",
        nano_cpus=int(spec.cpus * 1e9), pids_limit=spec.pids, cap_drop=["ALL"],
        security_opt=["no-new-privileges"], ipc_mode="private",
        ulimits=[Ulimit(name="fsize", soft=fsize, hard=fsize), Ulimit(name="core", soft=0, hard=0)],
        labels={LABEL: "1", f"{LABEL}.owner": OWNER}, log_config=LogConfig(type="none"),
        environment={"HOME": "/tmp"}, detach=True)
    if spec.gpus:
        kwargs["device_requests"] = [DeviceRequest(count=spec.gpus, capabilities=[["gpu"]])]
    container = None
    try:
        container = client.containers.create(spec.image, **kwargs)
        container.start()
        pid = int(client.api.inspect_container(container.id)["State"]["Pid"])
        pidfd = None
        try:
            pidfd = os.pidfd_open(pid)
            if container.id not in Path(f"/proc/{pid}/cgroup").read_text():
                os.close(pidfd)  # not our init after all: never signal it directly
                pidfd = None
        except OSError:
            pidfd = None
        return Box(spec, container.id, pid, pidfd, slots)
    except BaseException:
        if container is not None:
            try:
                client.api.remove_container(container.id, force=True)
            except Exception:
                pass
        for slot in slots.values():
            slot.close()
        raise


def kill_box(client, box: Box, timeout: float = 10.0) -> None:
    """SIGKILL the box's init (the pid namespace takes every process along); wait until dead."""
    with box._lock:
        if box.dead:
            return
        if box.pidfd is not None:
            try:
                signal.pidfd_send_signal(box.pidfd, signal.SIGKILL)
                if select.select([box.pidfd], [], [], timeout)[0]:
                    box.dead = True
            except OSError:
                pass
        if not box.dead:
            try:
                client.api.kill(box.id)
                client.api.wait(box.id, timeout=timeout)
            except Exception:
                pass
            box.dead = True


def remove_box(client, box: Box) -> None:
    """Kill (if needed) and remove the container, then release its slots."""
    kill_box(client, box)
    try:
        client.api.remove_container(box.id, force=True)
    except Exception as exc:
        if "No such container" not in str(exc) and "is already in progress" not in str(exc):
            raise
    finally:
        for slot in box.slots.values():
            slot.close()
        if box.pidfd is not None:
            os.close(box.pidfd)
            box.pidfd = None


def run_in_box(client, box: Box, argv: list[str], env: dict[str, str], workdir: str,
               seconds: float, out: TailBuffer, err: TailBuffer) -> tuple[int | None, bool, bool, float]:
    """Run ``argv`` as the box's runner; return (exit code or None, timed out, OOM-killed, seconds).

    Output is read from the raw attach socket (no client read timeout, so a
    silent command may run as long as its limit). On timeout the box is killed.
    """
    from docker.utils.socket import frames_iter

    api = client.api
    request = json.dumps({"argv": argv, "env": env, "cwd": workdir}).encode() + b"\n"
    start = time.monotonic()
    sock = api.attach_socket(box.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    raw = getattr(sock, "_sock", sock)
    raw.settimeout(None)
    raw.sendall(request)

    def reader() -> None:
        try:
            for stream, data in frames_iter(sock, tty=False):
                (err if stream == 2 else out).write(data)
        except Exception:  # the box was killed under us
            pass

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout=seconds)
    timed_out = t.is_alive()
    code, oom = None, False
    if timed_out:
        kill_box(client, box)
        t.join(timeout=5)
    else:
        code = int(client.api.wait(box.id, timeout=30)["StatusCode"])
        box.dead = True
        oom = bool(api.inspect_container(box.id)["State"].get("OOMKilled"))
    elapsed = time.monotonic() - start
    try:
        sock.close()
    except Exception:
        pass
    return code, timed_out, oom, elapsed
