"""Writable mounts with a size quota: a host tmpfs "slot", filled before and drained after.

No backend ever binds a host directory writable into a sandbox. Each writable
Mount gets a slot: a fresh tmpfs mounted on the host with ``size=`` (the quota)
and ``nr_inodes=``, owned by the sandbox user's host uid. The source is copied
in before the command and mirrored back after every process in the sandbox is
dead, so the engine's directory changes only through this copy, which keeps
regular files, directories and symlinks (as links, never followed), drops
fifos, sockets and devices, strips setuid/setgid/sticky bits and, on the way
back, group and world write bits. The copy back counts every regular file at
its apparent size (a sparse file costs a tmpfs nothing but a reader pays its
full length) against the slot's quota; files past it are not copied and the
run is marked over quota.

Mounting a tmpfs needs root; without it a slot is a plain temporary directory
(no quota) and :attr:`Slot.quota` is False, which the backends report.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import stat
import tempfile
from pathlib import Path

from dgm.sandbox.readback import copy_counted, file_cost

_MS_NOSUID, _MS_NODEV = 2, 4
_MNT_DETACH = 2
_PREFIX = "dgm-slot-"
_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _mount_tmpfs(path: Path, size_mb: int, uid: int, gid: int) -> bool:
    if os.geteuid() != 0:
        return False
    inodes = max(16384, size_mb * 64)
    opts = f"size={size_mb}m,nr_inodes={inodes},mode=0755,uid={uid},gid={gid}".encode()
    rc = _c().mount(b"tmpfs", os.fsencode(path), b"tmpfs", _MS_NOSUID | _MS_NODEV, opts)
    return rc == 0


def _umount(path: Path) -> None:
    _c().umount2(os.fsencode(path), _MNT_DETACH)


def _remove(path: str, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def mirror(src: Path, dst: Path, owner: tuple[int, int] | None = None, mask: int = 0o777,
           budget: int | None = None) -> int:
    """Make the directory ``dst`` hold what ``src`` holds (see module doc), rewriting only what differs.

    A regular file is kept when type, size, mtime and mode match. Permission
    bits are kept under ``mask``; setuid, setgid and sticky bits never are.
    Links are never followed, on either side. Iterative, so a hostile, very
    deep tree cannot exhaust Python's recursion. With ``budget`` (bytes),
    regular files are counted at their apparent size and those that would
    pass it are left out; returns the bytes left out (0 when all fit).
    """
    chown_to = owner if owner is not None and os.geteuid() == 0 else None
    left, dropped = budget, 0
    stack = [(str(src), str(dst))]
    while stack:
        s_dir, d_dir = stack.pop()
        with os.scandir(s_dir) as it:
            wanted = {e.name: e for e in it}
        with os.scandir(d_dir) as it:
            have = {e.name: e.stat(follow_symlinks=False) for e in it}
        for name, st in have.items():
            if name not in wanted:
                _remove(os.path.join(d_dir, name), st)
        for name, e in wanted.items():
            d = os.path.join(d_dir, name)
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            old = have.get(name)
            mode = stat.S_IMODE(st.st_mode) & 0o777 & mask
            if stat.S_ISDIR(st.st_mode):
                if old is not None and not stat.S_ISDIR(old.st_mode):
                    _remove(d, old)
                    old = None
                if old is None:
                    os.mkdir(d, 0o700)
                os.chmod(d, mode | 0o700)
                stack.append((e.path, d))
            elif stat.S_ISLNK(st.st_mode):
                target = os.readlink(e.path)
                if old is not None and stat.S_ISLNK(old.st_mode) and os.readlink(d) == target:
                    continue
                if old is not None:
                    _remove(d, old)
                os.symlink(target, d)
            elif stat.S_ISREG(st.st_mode):
                cost = file_cost(st)
                if left is not None:
                    if cost > left:
                        dropped += cost
                        if old is not None:
                            _remove(d, old)
                        continue
                    left -= cost
                if (old is not None and stat.S_ISREG(old.st_mode) and old.st_size == st.st_size
                        and old.st_mtime_ns == st.st_mtime_ns and stat.S_IMODE(old.st_mode) == mode):
                    continue
                if old is not None:
                    _remove(d, old)
                _copy_regular(e.path, d, st.st_size)
                os.chmod(d, mode)
                os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns))
            else:  # fifo, socket, device: never copied
                if old is not None:
                    _remove(d, old)
                continue
            if chown_to is not None:
                os.lchown(d, *chown_to)
    return dropped


def _copy_regular(src: str, dst: str, size: int) -> None:
    """Copy at most ``size`` bytes (what was counted) from ``src`` to a new ``dst``; no links."""
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        copy_counted(fd, dst, size, 0o600)
    finally:
        os.close(fd)


class Slot:
    """A quota'd host directory standing in for one writable mount."""

    def __init__(self, size_mb: int, owner: tuple[int, int]) -> None:
        self.owner, self.size_mb = owner, size_mb
        self.path = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
        self.quota = _mount_tmpfs(self.path, size_mb, *owner)
        if not self.quota and os.geteuid() == 0:
            os.chown(self.path, *owner)
        # Without root we cannot hand the directory to another uid (Docker's 1000): open it up.
        os.chmod(self.path, 0o755 if os.geteuid() in (0, owner[0]) else 0o777)

    def fill(self, source: Path) -> None:
        """Copy ``source``'s contents in, owned by the sandbox user."""
        mirror(source, self.path, self.owner)

    def drain(self, dest: Path) -> str:
        """Mirror the slot into ``dest`` (deletions included); call only when the sandbox is dead.

        Files the command did not touch are left alone. No group- or
        world-writable file lands in the engine's directories. Returns why
        the run is over its quota ("" when it is not): files counted at their
        apparent size past ``size_mb`` are left out.
        """
        dropped = mirror(self.path, dest, (os.geteuid(), os.getegid()) if os.geteuid() == 0 else None,
                         mask=0o755, budget=self.size_mb << 20)
        if not dropped:
            return ""
        return (f"over the {self.size_mb} MiB scratch quota: {dropped} bytes not copied back "
                "(files count at their apparent size, sparse ones too)")

    def close(self) -> None:
        if self.quota:
            _umount(self.path)
        shutil.rmtree(self.path, ignore_errors=True)


def stale_slots() -> list[Path]:
    """Slot mounts of processes that no longer exist (a killed engine leaves them)."""
    out: list[Path] = []
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        target = line.split()[1].replace("\\040", " ")
        name = os.path.basename(target)
        if name.startswith(_PREFIX):
            pid = name[len(_PREFIX):].split("-", 1)[0]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                out.append(Path(target))
    return out


def clean_stale_slots() -> int:
    """Unmount and delete stale slots; return how many."""
    stale = stale_slots()
    for p in stale:
        _umount(p)
        shutil.rmtree(p, ignore_errors=True)
    return len(stale)
