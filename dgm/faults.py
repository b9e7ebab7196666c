"""Host faults versus the agent's failures, and the run's honest stop ("stalled").

A child may only be rejected or failed for what *it* did. A full disk, a broken
git store, an engine that answers 500 or an endpoint that does not answer say
nothing about the agent: they are :class:`HostFault` s, retried after a backoff
and never written as the agent's result. When the same cause keeps failing,
the run stops with a line that names it (``FaultTracker``), exits non-zero, and
a resume continues once the cause is fixed (the count is per process, of
consecutive failures of one cause, not of all attempts ever made).
"""

from __future__ import annotations

import errno
import re
from dataclasses import dataclass, field

# errno values that mean the host, not the agent, is in trouble
HOST_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EROFS, errno.EDQUOT, errno.ENOMEM,
               errno.EMFILE, errno.ENFILE}
# the same conditions as git and other tools word them in their messages
HOST_MARKERS = ("no space left on device", "out of diskspace", "read-only file system",
                "input/output error", "disk quota exceeded", "too many open files",
                "cannot allocate memory", "out of memory")
# git apply's words for a store it cannot read or write (not a patch that does not apply)
STORE_MARKERS = ("unable to read", "bad object", "is damaged", "unable to write",
                 "failed to write", "unable to create", "not a git repository", "cat-file died",
                 "could not read", "insufficient permission")
ENDPOINT_STATUSES = {0, 408, 429, 500, 502, 503, 504}


class HostFault(Exception):
    """A failure of the host (``cause``: disk, git-store, engine, endpoint), not the agent's."""

    def __init__(self, cause: str, message: str):
        super().__init__(message)
        self.cause = cause

    def __reduce__(self):  # survives pickling across Ray or process pools
        return (HostFault, (self.cause, str(self)))


def text_fault(text: str) -> str | None:
    """``'disk'`` when a message describes a host resource condition (full disk, EIO, ...)."""
    low = text.lower()
    return "disk" if any(m in low for m in HOST_MARKERS) else None


def git_fault(stderr: str, applying: bool = False) -> str | None:
    """The host cause of a failed git command, or None when it is about the patch itself.

    ``applying``: the command was ``git apply``, whose own complaints (``patch does
    not apply``, ``corrupt patch``) are the proposal's fault; only resource and
    object-store failures are the host's there.
    """
    if text_fault(stderr):
        return "disk"
    if not applying:
        return "git-store"  # read-tree, write-tree, commit-tree, cat-file: only the store can fail
    low = stderr.lower()
    return "git-store" if any(m in low for m in STORE_MARKERS) else None


def endpoint_fault(exc: BaseException) -> HostFault | None:
    """A model call that failed because the endpoint did not answer usefully (not 402/400)."""
    if getattr(exc, "status", None) in ENDPOINT_STATUSES:
        return HostFault("endpoint", f"model endpoint: {exc}"[:500])
    return None


def classify(exc: BaseException | None) -> HostFault | None:
    """The host fault ``exc`` is (following ``__cause__`` and Ray's ``cause``), or None."""
    seen = 0
    while exc is not None and seen < 8:
        seen += 1
        if isinstance(exc, HostFault):
            return exc
        if isinstance(exc, OSError) and exc.errno in HOST_ERRNOS:
            return HostFault("disk", f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        name = type(exc).__module__ + "." + type(exc).__name__
        if name.startswith(("docker.errors", "requests.exceptions", "urllib3.exceptions")):
            return HostFault("engine", f"container engine: {type(exc).__name__}: {exc}"[:500])
        if type(exc).__name__ == "GitError":
            cause = git_fault(getattr(exc, "stderr", "") or str(exc))
            return HostFault(cause or "git-store", f"git store: {exc}"[:500])
        if type(exc).__name__ == "GatewayError" and getattr(exc, "status", None) in ENDPOINT_STATUSES:
            return HostFault("endpoint", f"model endpoint: {exc}"[:500])
        if text_fault(str(exc)):
            return HostFault("disk", str(exc)[:500])
        exc = exc.__cause__ or getattr(exc, "cause", None)
    return None


def reason_cause(reason: str) -> str:
    """A rejection reason reduced to its cause: its words before the first colon, no numbers."""
    head = reason.split(":", 1)[0]
    return re.sub(r"\d+", "N", head).strip()[:80] or "rejected"


@dataclass
class FaultTracker:
    """Counts consecutive failures of one cause; says when the run must stop.

    ``host_limit``: consecutive host faults of one cause (each retried after a
    backoff) before the run stalls; ``reject_limit``: consecutive rejected
    proposals of one cause. Any success resets the count.
    """

    host_limit: int = 10
    reject_limit: int = 58
    backoff_base: float = 0.5
    backoff_max: float = 15.0
    cause: str | None = None
    count: int = 0
    last: str = ""
    host: bool = False
    kinds: dict = field(default_factory=dict)

    def success(self) -> None:
        self.cause, self.count, self.last, self.host = None, 0, "", False

    def failure(self, cause: str, message: str, host: bool) -> bool:
        """Count one failure; True when the run should stop (see ``stalled``)."""
        key = ("host:" if host else "reject:") + cause
        if key != ("host:" if self.host else "reject:") + (self.cause or ""):
            self.cause, self.count, self.host = cause, 0, host
        self.count += 1
        self.last = message
        return self.count >= (self.host_limit if host else self.reject_limit)

    def backoff(self) -> float:
        """Seconds to wait before retrying after the current run of host faults."""
        return min(self.backoff_max, self.backoff_base * 2 ** max(0, self.count - 1))

    def stalled(self) -> str:
        what = f"{self.cause} faults" if self.host else f"proposal failures ({self.cause})"
        return f"stalled: {self.count} consecutive {what}, last: {self.last[:300]}"
