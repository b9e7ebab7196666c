"""In-sandbox: be the child subreaper of what we start, and kill all of it when done.

A process that double-forks or calls ``setsid`` leaves its process group, but
its orphans are reparented to the nearest ancestor that set
``PR_SET_CHILD_SUBREAPER``, so walking ``/proc`` for our descendants finds
every one. ``not_dumpable`` keeps same-user processes out of our memory and
our file descriptors (``/proc/<pid>/mem``, ``/proc/<pid>/fd/1``).
"""

import ctypes
import os
import signal
import time

_PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 4, 36


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def become_subreaper() -> None:
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def not_dumpable() -> None:
    _prctl(_PR_SET_DUMPABLE, 0)


def descendants() -> list:
    me, parent = os.getpid(), {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    parent[int(name)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    out = []
    for pid in parent:
        p, n = pid, 0
        while p in parent and p != me and n < 4096:
            p, n = parent[p], n + 1
        if p == me and pid != me:
            out.append(pid)
    return out


def kill_descendants() -> int:
    """SIGSTOP then SIGKILL every descendant, reap, repeat until none is left; returns the count."""
    killed = 0
    for _ in range(100):
        mine = descendants()
        if not mine:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in mine:
                try:
                    os.kill(pid, sig)
                    killed += sig == signal.SIGKILL
                except ProcessLookupError:
                    pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        time.sleep(0.01)
    return killed
