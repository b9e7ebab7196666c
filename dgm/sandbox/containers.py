"""One sandbox container ("box"): created idle, used for exactly one command, then destroyed.

A box is created with every restriction set (no network or an internal one,
read-only root, tmpfs /tmp, uid 1000, no capabilities, no-new-privileges,
memory = memory+swap, CPU quota, pids, file-size and core ulimits, optional
GPU device requests) and one quota'd slot per writable mount. Its main process
is the in-container runner (image/box_runner.py) waiting on stdin. A call
attaches, sends the command and a nonce; the runner forks the command with
exactly the environment given and reports its exit code after the nonce, on
both streams. The
box is then killed at once: background processes die with its pid namespace,
and only then are the slots drained. Cold runs and the warm pool share this
path; the pool merely creates boxes before they are needed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from dgm.resources import shipped
from dgm.sandbox.base import Limits
from dgm.sandbox.docker_hardening import Identity, box_identity
from dgm.sandbox.docker_calls import REAPER, engine_call, owner_labels
from dgm.sandbox.output import TailBuffer
from dgm.sandbox.scratch import Slot

LABEL = "dgm.sandbox"
UID = GID = 1000
RUNNER = shipped("image", "box_runner.py").read_text()  # checkout or wheel (dgm.resources)
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
    memory_cgroup: Path | None = None
    identity: Identity | None = None  # its leased uid, released when the box is removed
    dead: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def alive(self) -> bool:
        if self.dead:
            return False
        if self.pidfd is None:
            return os.path.exists(f"/proc/{self.pid}")
        return not select.select([self.pidfd], [], [], 0)[0]

    def oom_kills(self) -> int | None:
        """OOM kills in the box's memory cgroup so far (None: cannot tell from here)."""
        if self.memory_cgroup is None:
            return None
        for name in ("memory.oom_control", "memory.events"):
            try:
                for line in (self.memory_cgroup / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
            except OSError:
                continue
        return None


def _memory_cgroup(pid: int) -> Path | None:
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, ctrls, rel = line.split(":", 2)
        if "memory" in ctrls.split(","):
            return Path("/sys/fs/cgroup/memory") / rel.lstrip("/")
        if ctrls == "" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            return Path("/sys/fs/cgroup") / rel.lstrip("/")
    return None


def create_box(client, spec: Spec) -> Box:
    """Create and start an idle box for ``spec`` (about 0.2 s)."""
    from docker.types import DeviceRequest, LogConfig, Mount as DMount, Ulimit

    ident = box_identity()
    try:
        slots = {t: Slot(spec.scratch_mb, (ident.uid, ident.uid)) for t in spec.rw}
    except BaseException:
        ident.release()
        raise
    mounts = [DMount(target=t, source=s, type="bind", read_only=True) for s, t in spec.ro + tuple(ident.etc)]
    mounts += [DMount(target=t, source=str(slot.path), type="bind", read_only=False) for t, slot in slots.items()]
    fsize = spec.file_size_mb * 1024 * 1024
    box_tag = uuid.uuid4().hex  # finds the container when the engine created it but we lost the answer
    kwargs = dict(
        command=["python3", "-I", "-S", "-c", RUNNER], init=True, stdin_open=True,
        user=f"{ident.uid}:{ident.uid}", working_dir="/tmp",
        network_mode=spec.network, read_only=True, hostname="sandbox",
        tmpfs={"/tmp": f"rw,nosuid,nodev,size={spec.scratch_mb}m,mode=1777"},
        mounts=mounts, mem_limit=f"{spec.memory_mb}m", memswap_limit=f"{spec.memory_mb}m",
        nano_cpus=int(spec.cpus * 1e9), pids_limit=spec.pids, cap_drop=["ALL"],
        security_opt=ident.security_opt, ipc_mode="private",
        ulimits=[Ulimit(name="fsize", soft=fsize, hard=fsize), Ulimit(name="core", soft=0, hard=0)],
        labels={**owner_labels(LABEL, OWNER), f"{LABEL}.box": box_tag}, log_config=LogConfig(type="none"),
        environment={"HOME": "/tmp"}, detach=True)
    if spec.gpus:
        kwargs["device_requests"] = [DeviceRequest(count=spec.gpus, capabilities=[["gpu"]])]
    container = None
    try:
        container = client.containers.create(spec.image, **kwargs)
        container.start()
        pid = int(engine_call(client.api.inspect_container, container.id)["State"]["Pid"])
        pidfd = None
        try:
            pidfd = os.pidfd_open(pid)
            if container.id not in Path(f"/proc/{pid}/cgroup").read_text():
                os.close(pidfd)  # not our init after all: never signal it directly
                pidfd = None
        except OSError:
            pidfd = None
        return Box(spec, container.id, pid, pidfd, slots, _memory_cgroup(pid), ident)
    except BaseException:
        try:
            ids = [container.id] if container is not None else [c["Id"] for c in engine_call(
                client.api.containers, all=True, filters={"label": f"{LABEL}.box={box_tag}"}) or []]
        except Exception:
            ids = []
        for cid in ids:
            try:
                engine_call(client.api.remove_container, cid, force=True)
            except Exception:
                REAPER.submit(client, cid)
        for slot in slots.values():
            slot.close()
        ident.release()
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
        if not box.dead:  # "is not running" and "no such container" mean it is dead already
            try:
                engine_call(client.api.kill, box.id, done_words=("is not running",))
                engine_call(client.api.wait, box.id, timeout=timeout, attempts=3)
            except Exception:
                pass  # removal (force) kills it anyway, or the reaper does
            box.dead = True


def remove_box(client, box: Box) -> None:
    """Kill (if needed) and remove the container, then release its slots. Never raises for
    the engine's races: a removal that keeps failing is finished by the reaper thread."""
    kill_box(client, box)
    try:
        engine_call(client.api.remove_container, box.id, force=True)
    except Exception:
        REAPER.submit(client, box.id)
    finally:
        for slot in box.slots.values():
            slot.close()
        if box.pidfd is not None:
            os.close(box.pidfd)
            box.pidfd = None
    if box.identity is not None:  # only once the container is gone: its uid is free again
        box.identity.release()


class _Stream:
    """Passes one stream on, holding back enough bytes to find and strip the runner's trailer."""

    def __init__(self, sink: TailBuffer, nonce: str) -> None:
        self.sink, self.pending = sink, b""
        self.pattern = re.compile(re.escape(nonce.encode()) + rb" (\d+)\n")
        self.hold = len(nonce) + 8
        self.code: int | None = None

    def write(self, data: bytes) -> bool:
        """Returns True once the trailer has been seen (what follows it is dropped)."""
        if self.code is not None:
            return True
        self.pending += data
        m = self.pattern.search(self.pending)
        if m:
            self.sink.write(self.pending[: m.start()])
            self.code, self.pending = int(m.group(1)), b""
            return True
        if len(self.pending) > self.hold:
            self.sink.write(self.pending[: -self.hold])
            self.pending = self.pending[-self.hold:]
        return False

    def flush(self) -> None:
        self.sink.write(self.pending)
        self.pending = b""


def run_in_box(client, box: Box, argv: list[str], env: dict[str, str], workdir: str,
               seconds: float, out: TailBuffer, err: TailBuffer) -> tuple[int | None, bool, bool, float]:
    """Run ``argv`` through the box's runner; return (exit code or None, timed out, OOM-killed, seconds).

    Output is read from the raw attach socket (no client read timeout, so a
    silent command may run as long as its limit). The box is killed before
    this returns, whatever happened.
    """
    from docker.utils.socket import frames_iter

    api = client.api
    nonce = secrets.token_hex(16)
    stdout, stderr = _Stream(out, nonce), _Stream(err, nonce)
    request = json.dumps({"argv": argv, "env": env, "cwd": workdir, "nonce": nonce}).encode() + b"\n"
    oom_before = box.oom_kills()
    start = time.monotonic()
    sock = api.attach_socket(box.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    raw = getattr(sock, "_sock", sock)
    raw.settimeout(None)
    raw.sendall(request)

    def reader() -> None:
        try:
            for stream, data in frames_iter(sock, tty=False):
                (stderr if stream == 2 else stdout).write(data)
                if stdout.code is not None and stderr.code is not None:
                    return  # the command is done; later output is from leftovers
        except Exception:  # the box was killed under us
            pass
        stdout.flush()
        stderr.flush()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout=seconds)
    elapsed = time.monotonic() - start
    timed_out = t.is_alive()
    code, oom = (stderr.code, False) if stdout.code is not None else (None, False)
    if code is not None:
        after = box.oom_kills()
        oom = after is not None and oom_before is not None and after > oom_before
    kill_box(client, box)  # ends background processes, and the reader if still reading
    t.join(timeout=5)
    if not timed_out and code is None:  # the runner itself died (killed, or out of memory)
        info = engine_call(api.inspect_container, box.id, gone={"State": {"ExitCode": -1}})
        state = info["State"]
        code, oom = int(state.get("ExitCode", -1)), bool(state.get("OOMKilled"))
    try:
        sock.close()
    except Exception:
        pass
    return (None if timed_out else code), timed_out, oom, elapsed
