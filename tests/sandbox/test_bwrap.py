"""bwrap specifics: the command line, the seccomp filter, limits and cleanup."""

from __future__ import annotations

import os
import struct

import pytest

from dgm.errors import ConfigError
from dgm.sandbox import Limits, Mount
from dgm.sandbox import seccomp

pytestmark = [pytest.mark.bwrap, pytest.mark.usefixtures("leaves_no_trace")]


def test_command_line_isolates(bwrap_sb, tmp_path):
    argv = bwrap_sb.argv(["true"], [Mount(tmp_path, "/agent")], {}, Limits(), "/tmp",
                         uid=100007 if bwrap_sb.privileged else None, seccomp_fd=9)
    joined = " ".join(argv)
    for flag in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                 "--new-session", "--remount-ro /", f"--ro-bind {tmp_path} /agent"):
        assert flag in joined
    assert "--bind / " not in joined and "--ro-bind / " not in joined
    assert f"--ro-bind {os.path.expanduser('~')} " not in joined
    for hidden in bwrap_sb.hidden:
        assert f"--tmpfs {hidden}" in joined
    if bwrap_sb.privileged:
        assert "--seccomp 9" in joined and "--reuid 100007" in joined and "--bounding-set=-all" in joined
    else:
        assert "--unshare-user" in joined and "--disable-userns" in joined


def test_seccomp_program_is_well_formed():
    prog = seccomp.program()
    assert len(prog) % 8 == 0 and len(prog) // 8 < 256
    last = struct.unpack("HBBI", prog[-8:])
    assert last == (0x06, 0, 0, seccomp.RET_ALLOW)


def test_network_other_than_none_is_refused(bwrap_sb):
    with pytest.raises(ConfigError, match="no network"):
        bwrap_sb.run("", ["true"], network="bridge")


def test_each_concurrent_run_gets_its_own_uid(bwrap_sb):
    if not bwrap_sb.privileged:
        pytest.skip("only root engines give each run a host uid")
    r = bwrap_sb.run("", ["sh", "-c", "id -u; cat /proc/self/status | grep -E 'NoNewPrivs|Seccomp:'"],
                     limits=Limits(seconds=20))
    uid, nnp, sec = r.stdout.split("\n")[:3]
    assert 100000 <= int(uid) < 101000
    assert nnp.split()[1] == "1" and sec.split()[1] == "2"


def test_process_limit_without_relying_on_cgroups(bwrap_sb):
    r = bwrap_sb.run("", ["python3", "-c", """
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(30); os._exit(0)
        n += 1
except OSError as e:
    print(n, e.errno)
"""], limits=Limits(seconds=20, pids=20))
    n, err = map(int, r.stdout.split())
    assert n < 20 and err == 11  # EAGAIN
