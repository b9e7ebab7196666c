"""Host uids for sandboxes, distinct across every engine on the host.

The kernel keeps many limits per *user* (processes, inotify instances and
watches, pending signals, locked memory, user namespaces...). Sandboxes that
share a uid share those limits, so one agent could exhaust them for every other
sandbox, and for other engines' sandboxes too. Each concurrent sandbox, of
either backend, therefore runs as its own host uid from one pool
(``BASE`` .. ``BASE + COUNT - 1``), and a uid is held by an exclusive ``flock``
on ``<LOCK_DIR>/<uid>.lock`` for as long as the sandbox lives. flock locks
belong to open files, so they exclude other threads and other processes alike,
and the kernel drops them when the holder dies: a crashed engine frees its
uids at once, and a lock file left behind means nothing.

Only an engine run as root can use this (it needs to run processes, or have
Docker run them, as other uids); the lock directory defaults to /run/dgm/uids
(``DGM_UID_LOCK_DIR`` overrides it; engines that should not collide must agree
on it).
"""

from __future__ import annotations

import fcntl
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from dgm.errors import ConfigError

BASE, COUNT = 100000, 1000
DEFAULT_LOCK_DIR = "/run/dgm/uids"


def lock_dir() -> Path:
    return Path(os.environ.get("DGM_UID_LOCK_DIR") or DEFAULT_LOCK_DIR)


@dataclass
class UidLease:
    """One held uid; ``release()`` (idempotent) gives it back."""

    uid: int
    _fd: int | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file drops the flock
            self._fd = None

    def __enter__(self) -> "UidLease":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lease() -> UidLease:
    """Hold a uid no other sandbox on this host holds (raises ConfigError when all are taken)."""
    d = lock_dir()
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    start = random.randrange(COUNT)  # spread engines over the pool: fewer failed tries
    for i in range(COUNT):
        uid = BASE + (start + i) % COUNT
        fd = os.open(d / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return UidLease(uid, fd)
    raise ConfigError(f"all {COUNT} sandbox uids ({BASE}..{BASE + COUNT - 1}) are in use on "
                      f"this host (locks in {d})")


def passwd_lines(uids: range = range(BASE, BASE + COUNT)) -> tuple[str, str]:
    """/etc/passwd and /etc/group text naming every pool uid ``agent`` (for git, getpass)."""
    passwd = ("root:x:0:0:root:/root:/usr/sbin/nologin\n"
              + "".join(f"agent:x:{u}:{u}:agent:/tmp:/bin/sh\n" for u in (1000, *uids))
              + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    group = ("root:x:0:\n" + "".join(f"agent:x:{u}:\n" for u in (1000, *uids))
             + "nogroup:x:65534:\n")
    return passwd, group
