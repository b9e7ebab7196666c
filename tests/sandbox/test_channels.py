"""The sandboxes' last open channels, tried from inside each backend (real sandboxes).

vsock and io_uring must be refused by seccomp on both backends (as must the socket
families nothing needs), concurrent sandboxes, even of two engines, must run as
distinct host uids, and bwrap must not show host paths in /proc/1/cmdline or mountinfo.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from dgm.sandbox import Limits, uids

# C-free: the socket module for families, ctypes' syscall() for io_uring_setup (425, x86_64)
PROBE = textwrap.dedent("""
    import ctypes, errno, json, os, socket
    def fam(f, kind=socket.SOCK_STREAM):
        try:
            socket.socket(f, kind).close()
            return "open"
        except OSError as e:
            return errno.errorcode.get(e.errno, str(e.errno))
    out = {"vsock": fam(socket.AF_VSOCK), "packet": fam(socket.AF_PACKET, socket.SOCK_RAW),
           "alg": fam(socket.AF_ALG, socket.SOCK_SEQPACKET), "bluetooth": fam(31),
           "family_200": fam(200), "unix": fam(socket.AF_UNIX), "inet": fam(socket.AF_INET),
           "netlink": fam(socket.AF_NETLINK, socket.SOCK_RAW)}
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(425, 4, params)
    out["io_uring_setup"] = "open" if fd >= 0 else errno.errorcode[ctypes.get_errno()]
    out["io_uring_enter"] = "open" if libc.syscall(426, 0, 0, 0, 0, 0, 0) >= 0 else \\
        errno.errorcode[ctypes.get_errno()]
    out["uid"] = os.getuid()
    out["cmdline"] = open("/proc/1/cmdline", "rb").read().replace(b"\\0", b" ").decode()
    out["mountinfo"] = open("/proc/self/mountinfo").read()
    print(json.dumps(out))
""")


def probe(sb, seconds: float = 60) -> dict:
    image = getattr(sb, "image", None) or "dgm-sandbox"
    r = sb.run(image, ["python3", "-c", PROBE], limits=Limits(seconds=seconds))
    assert r.ok, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_vsock_io_uring_and_unneeded_families_are_refused(sandbox):
    out = probe(sandbox)
    for name in ("vsock", "packet", "alg", "bluetooth", "family_200"):
        assert out[name] == "EAFNOSUPPORT", (name, out[name])
    assert out["io_uring_setup"] == "EPERM" and out["io_uring_enter"] == "EPERM"
    assert out["unix"] == "open" and out["inet"] == "open"  # the gateway socket, loopback
    print(f"\n{sandbox.name}: vsock {out['vsock']}, io_uring_setup {out['io_uring_setup']}, "
          f"uid {out['uid']}")


def test_uids_are_distinct_across_concurrent_runs(sandbox):
    if os.geteuid() != 0:
        pytest.skip("only a root engine gives each sandbox its own host uid")
    got: list[str] = []
    lock = threading.Lock()

    def one() -> None:  # each run holds its sandbox for 4 s: the three surely overlap
        r = sandbox.run(getattr(sandbox, "image", None) or "dgm-sandbox",
                        ["sh", "-c", "id -u; sleep 4"], limits=Limits(seconds=120))
        with lock:
            got.append(r.stdout.strip() if r.ok else r.stderr[-300:])

    threads = [threading.Thread(target=one) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = [int(x) for x in got]
    assert len(set(seen)) == 3 and all(uids.BASE <= u < uids.BASE + uids.COUNT for u in seen)


@pytest.mark.bwrap
def test_bwrap_shows_no_host_paths(bwrap_sb):
    out = probe(bwrap_sb)
    repo = str(Path(__file__).resolve().parents[2])
    assert out["cmdline"].startswith(f"{bwrap_sb.bwrap} --args ")
    assert repo not in out["cmdline"] and "dgm-slot-" not in out["cmdline"]
    assert "dgm-bwrap-etc" not in out["mountinfo"] and "dgm-slot-" not in out["mountinfo"]


ENGINE = textwrap.dedent("""
    import json, sys, time
    from dgm.sandbox import Limits
    from dgm.sandbox.select import choose_sandbox
    sb = choose_sandbox(sys.argv[1], echo=lambda line: None,
                        image=sys.argv[2] if len(sys.argv) > 2 else None)
    r = sb.run(sys.argv[2] if len(sys.argv) > 2 else "",
               ["sh", "-c", "date +%s.%N; id -u; sleep 4; date +%s.%N"], limits=Limits(seconds=60))
    sb.close()
    print(json.dumps({"ok": r.ok, "out": r.stdout, "err": r.stderr[-500:]}))
""")


def _engines_side_by_side(kind: str, image: str | None) -> list[int]:
    """Two engine processes, each running one sandbox at the same time; their uids."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    argv = [sys.executable, "-c", ENGINE, kind, *([image] if image else [])]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert all(r["ok"] for r in results), results
    spans = [(float(r["out"].split()[0]), float(r["out"].split()[2])) for r in results]
    assert max(a for a, _ in spans) < min(b for _, b in spans), spans  # they ran side by side
    return [int(r["out"].split()[1]) for r in results]


@pytest.mark.bwrap
@pytest.mark.slow
def test_two_engines_bwrap_sandboxes_get_distinct_uids(bwrap_sb):
    if not bwrap_sb.privileged:
        pytest.skip("only a root engine gives each sandbox its own host uid")
    t0 = time.monotonic()
    a, b = _engines_side_by_side("bwrap", None)
    assert a != b and uids.BASE <= min(a, b), (a, b)
    assert time.monotonic() - t0 < 200


@pytest.mark.docker
@pytest.mark.slow
def test_two_engines_docker_sandboxes_get_distinct_uids(docker_image):
    if os.geteuid() != 0:
        pytest.skip("only a root engine gives each sandbox its own host uid")
    a, b = _engines_side_by_side("docker", docker_image)
    assert a != b and uids.BASE <= min(a, b), (a, b)


def test_uid_leases_exclude_other_processes(tmp_path, monkeypatch):
    """The lease is a flock: another process holding a uid keeps it from us until it exits."""
    monkeypatch.setenv("DGM_UID_LOCK_DIR", str(tmp_path))
    monkeypatch.setattr(uids, "COUNT", 2)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys
        fd = os.open({str(tmp_path / f'{uids.BASE}.lock')!r}, os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("held", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        mine = uids.lease()
        assert mine.uid == uids.BASE + 1  # the other process's uid is skipped
        with pytest.raises(Exception, match="all 2 sandbox uids"):
            uids.lease()  # ours is held by this very process too (one lock per open file)
        mine.release()
        again = uids.lease()
        assert again.uid == uids.BASE + 1
        again.release()
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    freed = uids.lease()  # the holder died: the kernel dropped its lock
    assert freed.uid in (uids.BASE, uids.BASE + 1)
    freed.release()
