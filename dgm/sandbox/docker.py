"""The Docker backend, with an optional warm pool of idle containers.

Every command gets a fresh container (see containers.py) that is destroyed
afterwards, so nothing carries over between calls. Without a pool a call
creates its container first (a cold run, ~0.3 s more). With ``pool_size=N``
up to N idle containers per mount/limit layout are started in the background
and a call only pays for handing its command to the container's runner; after
use the container is killed at once and removed in the background while a
replacement starts ("recycling").
A timed-out call is killed and removed before ``run`` returns.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Mapping, Sequence

from dgm.errors import ConfigError, DgmError
from dgm.sandbox.base import Limits, Mount, RunResult, Sandbox
from dgm.sandbox.containers import LABEL, OWNER, Box, Spec, create_box, kill_box, remove_box, run_in_box
from dgm.sandbox.docker_engine import docker_client
from dgm.sandbox.docker_calls import REAPER, TEST_OWNER_ENV, engine_call
from dgm.sandbox.output import TailBuffer
from dgm.sandbox.policy import check_command, check_mounts, describe_exit, sandbox_env, workdir_for

PATH_IN_IMAGE = "/opt/venv/bin:/usr/local/bin:/usr/bin:/bin"
GENERIC_NAMES = ("dgm-sandbox", "dgm-sandbox:latest")  # what suites say; maps to the current build


class DockerSandbox(Sandbox):
    """Docker containers as sandboxes (see module docstring)."""

    name = "docker"

    def __init__(self, image: str | None = None, pool_size: int = 0, client=None) -> None:
        self.client = client or docker_client()
        self.image = image
        self.pool_size = max(0, int(pool_size))
        self._lock = threading.Lock()
        self._idle: OrderedDict[Spec, deque[Box]] = OrderedDict()
        self._pending: dict[Spec, int] = {}
        self._futures: set[Future] = set()
        self._bg = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dgm-docker-pool")
        self._digests: dict[str, str] = {}
        self._networks: set[str] = set()
        self._closed = False
        self.last_pool_error: str | None = None
        ref = weakref.ref(self)

        def close_at_exit() -> None:  # through a weak reference: the hook keeps no sandbox alive
            box = ref()
            if box is not None:
                box.close()
        atexit.register(close_at_exit)

    # -- configuration checks -------------------------------------------------
    def _image(self, image: str | None) -> str:
        if not image or (self.image and image in GENERIC_NAMES):
            image = self.image  # the content-hashed build this sandbox was made for
        if not image:
            raise ConfigError("no sandbox image given (run `dgm sandbox build`)")
        if image not in self._digests:
            try:
                self._digests[image] = self.client.images.get(image).id
            except Exception as exc:
                raise DgmError(f"sandbox image {image} is not in the image store "
                               f"(run `dgm sandbox build`): {exc}") from exc
        return image

    def _network(self, network: str | None) -> str:
        if network in (None, "none"):
            return "none"
        if network not in self._networks:
            try:
                net = self.client.networks.get(network)
            except Exception as exc:
                raise ConfigError(f"Docker network {network!r} does not exist: {exc}") from exc
            if not net.attrs.get("Internal"):
                raise ConfigError(f"Docker network {network!r} is not internal (create it with "
                                  "`docker network create --internal`): sandboxes get no outside access")
            self._networks.add(network)
        return network

    # -- the pool ---------------------------------------------------------------
    def _submit(self, fn, *args) -> None:
        fut = self._bg.submit(fn, *args)
        with self._lock:
            self._futures.add(fut)

        def done(f: Future) -> None:
            with self._lock:
                self._futures.discard(f)
            if f.exception() is not None:
                self.last_pool_error = f"{fn.__name__}: {f.exception()}"

        fut.add_done_callback(done)

    def _refill(self, spec: Spec) -> None:
        """Schedule starts so ``spec`` has pool_size boxes idle or starting (holds no lock)."""
        with self._lock:
            if self._closed or self.pool_size == 0:
                return
            have = len(self._idle.get(spec, ())) + self._pending.get(spec, 0)
            want = self.pool_size - have
            # Room for this layout: evict idle boxes of the least recently used other layouts.
            total = sum(len(q) for q in self._idle.values()) + sum(self._pending.values())
            evict = []
            for other in list(self._idle):
                if total + want <= self.pool_size:
                    break
                if other != spec:
                    while self._idle[other] and total + want > self.pool_size:
                        evict.append(self._idle[other].popleft())
                        total -= 1
            self._pending[spec] = self._pending.get(spec, 0) + max(0, want)
        for box in evict:
            self._submit(remove_box, self.client, box)
        for _ in range(max(0, want)):
            self._submit(self._start_idle, spec)

    def _start_idle(self, spec: Spec) -> None:
        try:
            box = create_box(self.client, spec)
        except Exception as exc:
            with self._lock:
                self._pending[spec] -= 1
            self.last_pool_error = str(exc)
            return
        with self._lock:
            self._pending[spec] -= 1
            keep = not self._closed
            if keep:
                self._idle.setdefault(spec, deque()).append(box)
                self._idle.move_to_end(spec)
        if not keep:
            remove_box(self.client, box)

    def _take(self, spec: Spec) -> Box | None:
        if self.pool_size == 0:
            return None
        box = None
        stale = []
        with self._lock:
            q = self._idle.get(spec)
            while q:
                b = q.popleft()
                if b.alive():
                    box = b
                    break
                stale.append(b)
            if spec in self._idle:
                self._idle.move_to_end(spec)
        for b in stale:
            self._submit(remove_box, self.client, b)
        return box

    def prewarm(self, image: str | None = None, mounts: Sequence[Mount] = (),
                limits: Limits = Limits(), network: str | None = None, wait_s: float = 60.0) -> int:
        """Start idle boxes for this layout now; return how many are idle."""
        spec = Spec.make(self._image(image), check_mounts(mounts, world_readable=True), limits, self._network(network))
        self._refill(spec)
        self.settle(wait_s)
        with self._lock:
            return len(self._idle.get(spec, ()))

    def settle(self, timeout: float = 60.0) -> None:
        """Wait for background starts and removals (tests use it before counting containers)."""
        with self._lock:
            futures = list(self._futures)
        wait(futures, timeout=timeout)
        REAPER.drain(timeout)

    def idle_count(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._idle.values())

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            boxes = [b for q in self._idle.values() for b in q]
            self._idle.clear()
        self.settle()
        for box in boxes:
            remove_box(self.client, box)
        self._bg.shutdown(wait=True)

    # -- running ----------------------------------------------------------------
    def run(self, image: str, command: Sequence[str], mounts: Sequence[Mount] = (),
            env: Mapping[str, str] | None = None, limits: Limits = Limits(),
            network: str | None = None, workdir: str = "/scratch") -> RunResult:
        if self._closed:
            raise DgmError("this Docker sandbox is closed")
        argv = check_command(command)
        mounts = check_mounts(mounts, world_readable=True)
        image = self._image(image)
        spec = Spec.make(image, mounts, limits, self._network(network))
        full_env = sandbox_env(env, PATH_IN_IMAGE)
        wd = workdir_for(workdir, mounts)
        box = self._take(spec) or create_box(self.client, spec)
        out, err = TailBuffer(limits.output_bytes), TailBuffer(limits.output_bytes)
        timed_out = False
        try:
            for m in mounts:
                if m.writable:
                    box.slots[m.target].fill(m.source)
            code, timed_out, oom, seconds = run_in_box(self.client, box, argv, full_env, wd,
                                                       limits.seconds, out, err)
            kill_box(self.client, box)  # a no-op unless the box is somehow still running
            quota = [why for m in mounts if m.writable and (why := box.slots[m.target].drain(m.source))]
        finally:
            if self.pool_size and not timed_out and not self._closed:
                self._submit(remove_box, self.client, box)
            else:
                remove_box(self.client, box)
            # Refill only now: on a small machine a container starting next to
            # the call would slow the call itself down.
            self._refill(spec)
        notes = [] if all(s.quota for s in box.slots.values()) else ["scratch quota not enforced (not root)"]
        reason = "; ".join(filter(None, [describe_exit(code, timed_out, oom, limits.seconds), *quota, *notes]))
        return RunResult(code, out.text(), err.text(), timed_out=timed_out, oom_killed=oom,
                         seconds=seconds, image_digest=self._digests[image], backend=self.name,
                         reason=reason, over_quota=bool(quota))


def leftover_containers(client=None, mine_only: bool = False) -> list:
    """dgm sandbox containers in the engine (all of them, or only this process's)."""
    client = client or docker_client()
    label = [f"{LABEL}.owner={OWNER}"] if mine_only else [LABEL]
    if mine_only and os.environ.get(TEST_OWNER_ENV):  # under tests: only this test's boxes
        label.append(f"{LABEL}.test={os.environ[TEST_OWNER_ENV]}")
    # ignore_removed: a box removed between the listing and its inspection is simply gone
    return client.containers.list(all=True, filters={"label": label}, ignore_removed=True)


def remove_stale_containers(client=None) -> int:
    """Remove sandbox containers whose owning process is gone; return how many."""
    client = client or docker_client()
    n = 0
    for c in leftover_containers(client):
        owner = c.labels.get(f"{LABEL}.owner", "")
        pid = owner.split("-", 1)[0]
        if owner != OWNER and not (pid.isdigit() and os.path.exists(f"/proc/{pid}")):
            try:
                engine_call(c.remove, force=True)
                n += 1
            except Exception:  # the engine's races: the next sweep finishes it
                REAPER.submit(client, c.id)
    return n
