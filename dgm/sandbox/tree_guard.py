"""Runs one command so that its whole process tree dies with it (the unsafe backend's init).

Usage: ``python -I tree_guard.py SECONDS AS_BYTES FSIZE_BYTES -- ARGV...`` (the
rlimits are set in the command's process only, so the guard itself always starts). The guard makes itself a
child subreaper (``PR_SET_CHILD_SUBREAPER``), so every descendant that double-forks
or calls ``setsid`` is re-parented to it instead of escaping to the host's init.
It ends the tree - every process it can find below itself, repeated until none is
left - when the command exits, when SECONDS pass (exit 124), when it is sent
SIGTERM, and when the process that started it (the run) dies. Standard library
only: it runs with the engine's interpreter in isolated mode.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1


def descendants(root: int) -> list[int]:
    """Pids below ``root`` (by parent links in /proc)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        for kid in children.get(todo.pop(), []):
            out.append(kid)
            todo.append(kid)
    return out


def kill_tree() -> None:
    """SIGKILL every descendant and reap them, until none is left (new forks included)."""
    me = os.getpid()
    for _ in range(200):
        pids = descendants(me)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:
            try:
                if os.waitpid(-1, os.WNOHANG) == (0, 0):
                    time.sleep(0.005)
            except ChildProcessError:
                break


def main(argv: list[str]) -> int:
    seconds, mem, fsize = float(argv[0]), int(argv[1]), int(argv[2])
    cmd = argv[4:] if argv[3:4] == ["--"] else argv[3:]
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)  # the polling below is the backstop
    stop: dict[str, str | None] = {"why": None}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(why="terminated"))
    try:
        pid = os.fork()
    except OSError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 127
    if pid == 0:
        os.setpgid(0, 0)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            os.execvp(cmd[0], cmd)
        except OSError as exc:
            print(f"cannot start {cmd[0]}: {exc}", file=sys.stderr)
        os._exit(127)
    end = time.monotonic() + seconds
    code = None
    while code is None:
        try:  # the command, or a re-parented orphan (reaped as it exits)
            got, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            got, status = pid, 0
        if got == pid:
            code = os.waitstatus_to_exitcode(status)
            break
        if stop["why"] or os.getppid() != parent or time.monotonic() > end:
            code = 124 if time.monotonic() > end and not stop["why"] else -signal.SIGKILL
            break
        if got == 0:
            time.sleep(0.01)
    kill_tree()
    if code < 0:  # died of a signal: so does the guard, so the caller sees the same
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
