"""Engine calls that tolerate the engine: retries on its transient answers, and a reaper.

On a busy machine the Docker engine answers a kill or a removal with 500
"... is not running" or "removal of container ... is already in progress",
with 409 conflicts, dropped connections and timeouts, all for a container
that is on its way out anyway. ``engine_call`` retries those with a short
backoff; "no such container" means the work is done. A removal that still
fails is handed to the :class:`Reaper`, a background thread that finishes it,
so a cleanup failure never costs the caller its result.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
import time
from typing import Any, Callable

TRANSIENT_WORDS = ("is not running", "already in progress", "removal in progress",
                   "is restarting", "is paused", "is being removed", "marked for removal",
                   "connection reset", "timed out", "timeout", "broken pipe", "try again",
                   "device or resource busy", "dead or marked")
TEST_OWNER_ENV = "DGM_TEST_OWNER"  # a per-test label, so tests count only their own boxes


def owner_labels(label: str, owner: str) -> dict[str, str]:
    """Labels of a new box: the process that owns it and, under tests, the test that made it."""
    labels = {label: "1", f"{label}.owner": owner}
    if os.environ.get(TEST_OWNER_ENV):
        labels[f"{label}.test"] = os.environ[TEST_OWNER_ENV]
    return labels


def is_gone(exc: BaseException) -> bool:
    """The container does not exist (any more): a kill, wait or removal is done."""
    return type(exc).__name__ == "NotFound" or "no such container" in str(exc).lower()


def is_transient(exc: BaseException) -> bool:
    """An answer that may change if asked again (500/409 races, resets, timeouts)."""
    mod = type(exc).__module__
    if mod.startswith(("requests", "urllib3")) or isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status in (409, 500, 502, 503, 504):
        return True
    low = str(exc).lower()
    return any(w in low for w in TRANSIENT_WORDS)


def engine_call(fn: Callable[..., Any], *args: Any, attempts: int = 6, delay: float = 0.1,
                gone: Any = None, done_words: tuple[str, ...] = (), **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, retried on transient answers; ``gone`` when the container is
    gone, or when the answer contains one of ``done_words`` (a kill's "is not running")."""
    for i in range(attempts):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if is_gone(exc) or any(w in str(exc).lower() for w in done_words):
                return gone
            if not is_transient(exc) or i == attempts - 1:
                raise
            time.sleep(delay * 2 ** i)
    return gone  # not reached


class Reaper:
    """Finishes container removals that failed in the foreground (one daemon thread)."""

    def __init__(self, tries: int = 12, delay: float = 0.5) -> None:
        self.tries, self.delay = tries, delay
        self._q: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.pending = 0
        self.failures: list[str] = []  # removals it gave up on (the next start's stale sweep)

    def submit(self, client: Any, container_id: str) -> None:
        with self._lock:
            self.pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="dgm-docker-reaper", daemon=True)
                self._thread.start()
        self._q.put((client, container_id))

    def _work(self) -> None:
        while True:
            client, cid = self._q.get()
            try:
                for i in range(self.tries):
                    try:
                        engine_call(client.api.remove_container, cid, force=True, attempts=2)
                        break
                    except Exception as exc:
                        if i == self.tries - 1:
                            self.failures.append(f"{cid[:12]}: {exc}")
                        time.sleep(min(5.0, self.delay * 2 ** i))
            finally:
                with self._lock:
                    self.pending -= 1

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every submitted removal is done; True when none is left."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self.pending == 0:
                    return True
            time.sleep(0.05)
        return False


REAPER = Reaper()
atexit.register(lambda: REAPER.drain(10.0))
