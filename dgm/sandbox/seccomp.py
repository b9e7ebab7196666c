"""A small seccomp filter for the bwrap backend (x86_64), in classic BPF.

When the engine runs as root, bwrap runs without a user namespace and the
sandboxed command switches to an unprivileged host uid (see bwrap.py). Such a
uid may still create user namespaces, which hands it capabilities over a
private copy of the kernel's attack surface; this filter refuses that, and
the other calls Docker's default profile refuses to unprivileged code:

- ``unshare``/``clone`` with CLONE_NEWUSER: EPERM; ``clone3`` (its flags sit
  behind a pointer the filter cannot read): ENOSYS, so libc falls back to clone;
- keyrings, bpf, perf events, userfaultfd, io_uring, module and kexec loading,
  mounts and namespace switching: EPERM;
- x32 system calls: EPERM; another architecture: the process is killed.
"""

from __future__ import annotations

import errno
import os
import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
CLONE_NEWUSER = 0x10000000
_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
RET_ALLOW, RET_KILL_PROCESS, RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000

# x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl)
DENIED = {
    "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298,
    "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
    "finit_module": 313, "delete_module": 176, "open_by_handle_at": 304, "acct": 163,
    "swapon": 167, "swapoff": 168, "syslog": 103,
}
NR_CLONE, NR_UNSHARE, NR_CLONE3 = 56, 272, 435


def _ins(code: int, jt: int = 0, jf: int = 0, k: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def supported() -> bool:
    return platform.machine() == "x86_64"


def program() -> bytes:
    """The filter as raw ``struct sock_filter`` entries (what ``bwrap --seccomp FD`` reads)."""
    eperm = RET_ERRNO | errno.EPERM
    p = [
        _ins(_LD_W_ABS, k=4),  # arch
        _ins(_JEQ, 1, 0, AUDIT_ARCH_X86_64),
        _ins(_RET, k=RET_KILL_PROCESS),
        _ins(_LD_W_ABS, k=0),  # syscall number
        _ins(_JGE, 0, 1, 0x40000000),  # the x32 ABI
        _ins(_RET, k=eperm),
    ]
    for nr in sorted(DENIED.values()):
        p += [_ins(_JEQ, 0, 1, nr), _ins(_RET, k=eperm)]
    p += [_ins(_JEQ, 0, 1, NR_CLONE3), _ins(_RET, k=RET_ERRNO | errno.ENOSYS),
          _ins(_JEQ, 1, 0, NR_UNSHARE),
          _ins(_JEQ, 0, 3, NR_CLONE),
          _ins(_LD_W_ABS, k=16),  # low 32 bits of args[0]: the flags
          _ins(_JSET, 0, 1, CLONE_NEWUSER),
          _ins(_RET, k=eperm),
          _ins(_RET, k=RET_ALLOW)]
    return b"".join(p)


def program_fd() -> int:
    """A readable fd positioned at the start of the program (the caller closes it)."""
    fd = os.memfd_create("dgm-seccomp", 0)
    os.write(fd, program())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
