"""The in-container runner: the main process of every Docker sandbox box.

The box starts with this waiting on stdin (``python3 -I -S -c <this file>``),
so its start-up costs nothing per call. The engine attaches and writes one JSON
line, ``{"argv": [...], "env": {...}, "cwd": "...", "nonce": "..."}``. The
runner forks the command with exactly that environment (nothing of the
image's) and stdin from /dev/null, its stdout and stderr going straight to the
engine. When the command exits, the runner writes ``<nonce> <exit code>`` on
stdout and stderr, which the engine strips, and waits to be killed with the box. The
engine so learns the result without waiting for the container to stop, which
saves ~60 ms per call. The runner makes itself non-dumpable so that the
command, which runs as the same user, cannot read the nonce from its memory.
"""
import ctypes
import json
import os
import signal
import sys

req = json.loads(sys.stdin.buffer.readline())
try:
    ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
except Exception:
    pass
pid = os.fork()
if pid == 0:
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    try:
        os.chdir(req["cwd"])
    except OSError:
        os.chdir("/tmp")
    try:
        os.execvpe(req["argv"][0], req["argv"], req["env"])
    except OSError as e:
        os.write(2, f"dgm-runner: cannot run {req['argv'][0]!r}: {e.strerror}\n".encode())
        os._exit(127)
while True:
    try:
        _, status = os.waitpid(pid, 0)
        break
    except InterruptedError:
        continue
code = os.waitstatus_to_exitcode(status)
trailer = f"{req['nonce']} {128 - code if code < 0 else code}\n".encode()
for fd in (1, 2):  # on both streams: Docker does not keep their relative order
    try:
        os.write(fd, trailer)
    except OSError:
        pass
while True:
    signal.pause()
