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
- ``socket`` of any family but AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK:
  EAFNOSUPPORT (no AF_VSOCK to the VM's host, no AF_PACKET, AF_ALG, ...);
- x32 system calls: EPERM; another architecture: the process is killed.

The Docker backend gets the same rules as a JSON profile (``docker_profile``),
so both backends refuse exactly the same calls. Docker's own default profile
cannot be extended in place (a container has one profile) and is not ours to
ship, so the profile is written from this table: it refuses every call the
default profile refuses to a non-root, capability-less container that the
missing capabilities would not already refuse, and adds io_uring and the
socket families (Docker 20.10 allows both).
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
    "swapon": 167, "swapoff": 168, "syslog": 103, "kcmp": 312, "name_to_handle_at": 303,
    "lookup_dcookie": 212, "uselib": 134, "ustat": 136, "sysfs": 139, "quotactl": 179,
    "reboot": 169, "settimeofday": 164, "clock_settime": 227, "clock_adjtime": 305,
    "iopl": 172, "ioperm": 173, "vhangup": 153, "nfsservctl": 180,
    "create_module": 174, "get_kernel_syms": 177, "query_module": 178,
}
NR_CLONE, NR_UNSHARE, NR_CLONE3, NR_SOCKET = 56, 272, 435, 41
# socket families a sandbox may open: local sockets (the gateway), loopback IP, and netlink
# (glibc's getaddrinfo asks it for interface addresses). Everything else: EAFNOSUPPORT.
ALLOWED_FAMILIES = {"AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16}
AF_MAX = 46  # families 0..45 exist in Linux 6.x; anything from 46 on is refused too


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
    fams = sorted(ALLOWED_FAMILIES.values())
    p.append(_ins(_JEQ, 0, len(fams) + 3, NR_SOCKET))  # not socket(): skip the family block
    p.append(_ins(_LD_W_ABS, k=16))  # the family (an int: the low 32 bits of args[0])
    for i, fam in enumerate(fams):
        p.append(_ins(_JEQ, len(fams) - i, 0, fam))  # allowed: on to RET_ALLOW
    p += [_ins(_RET, k=RET_ERRNO | errno.EAFNOSUPPORT), _ins(_RET, k=RET_ALLOW)]
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


def docker_profile() -> dict:
    """The same rules as ``program()`` as a Docker/runc seccomp profile (JSON-able dict)."""
    eperm = {"action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM}
    newuser = [{"index": 0, "value": CLONE_NEWUSER, "valueTwo": CLONE_NEWUSER,
                "op": "SCMP_CMP_MASKED_EQ"}]
    refused = {"action": "SCMP_ACT_ERRNO", "errnoRet": errno.EAFNOSUPPORT}
    rules: list[dict] = [
        {"names": sorted(DENIED), **eperm},
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS},
        {"names": ["clone", "unshare"], **eperm, "args": newuser},
    ]
    allowed = set(ALLOWED_FAMILIES.values())
    for fam in range(AF_MAX):
        if fam not in allowed:
            rules.append({"names": ["socket"], **refused,
                          "args": [{"index": 0, "value": fam, "op": "SCMP_CMP_EQ"}]})
    rules.append({"names": ["socket"], **refused,
                  "args": [{"index": 0, "value": AF_MAX, "op": "SCMP_CMP_GE"}]})
    return {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": rules}


def docker_security_opt() -> str:
    """``security_opt`` entry for the profile (Docker takes the JSON itself, not a path)."""
    import json
    return "seccomp=" + json.dumps(docker_profile(), separators=(",", ":"))
