"""Who a Docker sandbox runs as, and the seccomp profile it runs under (hooks for containers.py).

- **uid**: a root engine leases a host uid per box from the shared pool
  (uids.py), so no two concurrent sandboxes on the host, of any engine or
  backend, share per-user kernel limits. The lease lives as long as the box
  and is released only after the container is removed. Without root the box
  keeps the image's uid 1000 (the scratch slots could not be handed to others).
- **names**: the pool's uids have no entry in the image's /etc/passwd, which git
  and ``getpass`` need, so /etc/passwd and /etc/group are bound read-only from
  files under /run/dgm/etc (a neutral path: it names no engine, repo or run).
- **seccomp**: seccomp.docker_profile(), the bwrap filter's rules as JSON
  (no io_uring, no AF_VSOCK or other unneeded socket families, no user
  namespaces, and what Docker's default refuses to capability-less code).
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from dgm.sandbox import seccomp, uids

ETC_DIR = Path("/run/dgm/etc")
IMAGE_UID = 1000
_etc_lock = threading.Lock()
_etc_ready: list[tuple[str, str]] = []


@dataclass
class Identity:
    uid: int
    lease: uids.UidLease | None
    etc: list[tuple[str, str]]  # (host file, target) to bind read-only
    security_opt: list[str]

    def release(self) -> None:
        if self.lease is not None:
            self.lease.release()


def _etc_files() -> list[tuple[str, str]]:
    """Write the passwd/group files once per process (atomically: other engines read them)."""
    with _etc_lock:
        if not _etc_ready:
            ETC_DIR.mkdir(parents=True, exist_ok=True)
            os.chmod(ETC_DIR, 0o755)
            for name, text in zip(("passwd", "group"), uids.passwd_lines()):
                fd, tmp = tempfile.mkstemp(dir=ETC_DIR, prefix=f".{name}-")
                with os.fdopen(fd, "w") as fh:
                    fh.write(text)
                os.chmod(tmp, 0o644)
                os.replace(tmp, ETC_DIR / name)
                _etc_ready.append((str(ETC_DIR / name), f"/etc/{name}"))
        return list(_etc_ready)


def box_identity() -> Identity:
    """The uid, /etc binds and security options for one new box (release() when it is gone)."""
    opts = ["no-new-privileges"]
    if seccomp.supported():
        opts.append(seccomp.docker_security_opt())
    if os.geteuid() != 0:
        return Identity(IMAGE_UID, None, [], opts)
    lease = uids.lease()
    return Identity(lease.uid, lease, _etc_files(), opts)
