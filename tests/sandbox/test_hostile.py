"""The hostile-agent suite: each attack runs on both backends, must be contained,
reported with a reason, and leave the host as it was (no container, slot, cgroup
or process left; host files unchanged). docs/security.md lists the outcomes;
each test records its outcome in test-artifacts/hostile-outcomes.json."""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import stat
import subprocess
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from dgm.sandbox import Limits, Mount

REPO = Path(__file__).resolve().parents[2]
LIMITS = Limits(seconds=30, memory_mb=512, cpus=1, pids=64, file_size_mb=256, scratch_mb=64)
pytestmark = pytest.mark.usefixtures("leaves_no_trace")


class World:
    """Host-side directories an evaluation would mount, plus things that must stay hidden."""

    def __init__(self, root: Path) -> None:
        self.agent = root / "agent"
        self.harness = root / "harness"
        self.scratch = root / "scratch"
        self.secret = root / "private"
        for d in (self.agent, self.harness, self.scratch, self.secret):
            d.mkdir()
        (self.agent / "agent.py").write_text("print('agent')\n")
        (self.harness / "grade.py").write_text("SCORE = 'computed by the harness'\n")
        (self.scratch / "task.txt").write_text("the task\n")
        self.canary = self.secret / "canary.txt"
        self.canary.write_text("CANARY-" + uuid.uuid4().hex)
        self.db = self.secret / "dgm.db"
        with sqlite3.connect(self.db) as db:
            db.execute("create table evaluations (agent text, score real)")
            db.execute("insert into evaluations values ('SECRET-ROW', 0.42)")
        self.marker = f"dgm-attack-{uuid.uuid4().hex[:12]}"

    @property
    def mounts(self) -> list[Mount]:
        return [Mount(self.agent, "/agent"), Mount(self.harness, "/harness"),
                Mount(self.scratch, "/scratch", writable=True)]

    def snapshot(self, *dirs: Path) -> dict[str, str]:
        out = {}
        for d in dirs:
            for p in sorted(d.rglob("*")):
                st = p.lstat()
                out[str(p)] = f"{stat.filemode(st.st_mode)}:" + (
                    hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else "")
        return out

    def survivors(self) -> list[int]:
        """Host processes whose command line carries this attack's marker."""
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if self.marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
        return found


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def attack(sb, world: World, code: str, *args: str, limits: Limits = LIMITS, env=None):
    image = getattr(sb, "image", None) or ""
    if code.startswith(PROBE):
        code = PROBE + textwrap.dedent(code[len(PROBE):])
    argv = ["python3", "-c", textwrap.dedent(code), world.marker, *map(str, args)]
    r = sb.run(image, argv, mounts=world.mounts, env=env or {}, limits=limits)
    assert world.survivors() == [], "a sandboxed process outlived the run"
    return r


def record(recorder, name: str, sb, outcome: str) -> None:
    recorder.append({"attack": name, "backend": sb.name, "outcome": outcome})


PROBE = """
import sys
def probe(label, fn):
    try:
        fn()
        print("ESCAPED", label, flush=True)
    except Exception as e:
        why = getattr(e, "strerror", None) or str(e)
        print("blocked", label, f"{type(e).__name__}: {why}"[:100].replace(" ", "_"), flush=True)
def hidden(found, why):
    if found:
        return found  # something to steal: the probe escaped
    raise LookupError(why)
"""


def _lines(r) -> list[str]:
    return [line for line in r.stdout.splitlines() if line.startswith("blocked")]


def _summary(r) -> str:
    return "; ".join(f"{line.split()[1]}: {line.split()[2].replace('_', ' ')}" for line in _lines(r))


def _blocked(r, n: int) -> str:
    assert "ESCAPED" not in r.stdout, r.stdout
    assert len(_lines(r)) == n, (r.stdout, r.stderr)
    return _summary(r)


def _host_addresses() -> set[str]:
    """The host's own IPv4 addresses (the kernel's LOCAL routes)."""
    out, last = set(), None
    for line in Path("/proc/net/fib_trie").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "|--":
            last = parts[1]
        elif "host LOCAL" in line and last:
            out.add(last)
    return out


def test_tcp_connect_to_host_loopback_server(sandbox, world, recorder):
    accepted = []
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(srv.accept()[1])
            except OSError:
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    port = srv.getsockname()[1]
    hosts = sorted({"127.0.0.1", "172.17.0.1", *_host_addresses()})
    try:
        # the host can reach its own server: the attack has a real target
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        time.sleep(0.3)
        assert len(accepted) == 1
        r = attack(sandbox, world, PROBE + """
        import socket
        port = int(sys.argv[2])
        for h in sys.argv[3:]:
            probe(h, lambda: socket.create_connection((h, port), timeout=3))
        """, port, *hosts)
    finally:
        stop.set()
        t.join()
        srv.close()
    assert r.exit_code == 0, r
    assert len(accepted) == 1, f"the sandbox reached the host server: {accepted}"
    record(recorder, "TCP connect to a host loopback/bridge server", sandbox, _blocked(r, len(hosts)))


def test_dns_lookup(sandbox, world, recorder):
    r = attack(sandbox, world, PROBE + """
    import socket
    probe("getaddrinfo", lambda: socket.getaddrinfo("deb.debian.org", 443))
    def udp():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(b"\\x00" * 12, ("8.8.8.8", 53))
        s.recvfrom(512)
    probe("udp-53", udp)
    """)
    assert r.exit_code == 0, r
    record(recorder, "DNS lookup (resolver and raw UDP/53)", sandbox, _blocked(r, 2))


def test_host_secrets_in_environment(sandbox, world, recorder, monkeypatch):
    secrets = {"OPENAI_API_KEY": "sk-host-" + uuid.uuid4().hex, "GITHUB_TOKEN": "ghp-" + uuid.uuid4().hex,
               "AWS_SECRET": "aws-" + uuid.uuid4().hex, "ANTHROPIC_API_KEY": "ak-" + uuid.uuid4().hex}
    for k, v in secrets.items():
        monkeypatch.setenv(k, v)
    r = attack(sandbox, world, """
    import os, subprocess
    print(sorted(os.environ))
    print(open("/proc/1/environ", "rb").read() if os.access("/proc/1/environ", os.R_OK) else "")
    print(subprocess.run(["sh", "-c", "env; cat /proc/*/environ 2>/dev/null"], capture_output=True, text=True).stdout)
    """)
    assert r.exit_code == 0, r
    for k, v in secrets.items():
        assert k not in r.stdout and v not in r.stdout
    assert not any(name.endswith(("_KEY", "_TOKEN", "_SECRET")) for name in eval(r.stdout.splitlines()[0]))
    record(recorder, "read host secrets from the environment (own, init's, children's)", sandbox,
           "absent: only PATH, HOME, TMPDIR, LANG and declared variables exist")


def test_home_directory_and_unmounted_host_files(sandbox, world, recorder):
    home = Path(os.path.expanduser("~"))
    r = attack(sandbox, world, PROBE + """
    import os
    probe("canary", lambda: open(sys.argv[2]).read())
    probe("host-home-list", lambda: hidden([n for n in os.listdir(sys.argv[3]) if n != ".pyenv"],
                                           "only the bound interpreter is there"))
    probe("ssh-keys", lambda: os.listdir(os.path.join(sys.argv[3], ".ssh")))
    probe("bash-history", lambda: open(os.path.join(sys.argv[3], ".bash_history")).read())
    """, world.canary, home)
    assert r.exit_code == 0, r
    assert world.canary.read_text() not in r.stdout
    record(recorder, "read the home directory and unmounted host files", sandbox, _blocked(r, 4))


def test_archive_database_and_engine_are_invisible(sandbox, world, recorder):
    r = attack(sandbox, world, PROBE + """
    import sqlite3
    probe("archive-db", lambda: print(sqlite3.connect(f"file:{sys.argv[2]}?mode=ro", uri=True)
                                      .execute("select * from evaluations").fetchall()))
    probe("archive-raw", lambda: open(sys.argv[2], "rb").read())
    probe("engine", lambda: open(sys.argv[3]).read())
    probe("scorer", lambda: open(sys.argv[4]).read())
    """, world.db, REPO / "dgm" / "sandbox" / "base.py", REPO / "evaluators" / "swe-mini" / "scorer.py")
    assert r.exit_code == 0, r
    assert "SECRET-ROW" not in r.stdout
    record(recorder, "read the archive's SQLite file, the engine and a scorer", sandbox, _blocked(r, 4))


def test_writes_outside_scratch(sandbox, world, recorder):
    before = world.snapshot(world.agent, world.harness)
    r = attack(sandbox, world, PROBE + """
    import os
    for path in ["/x", "/etc/x", "/usr/x", "/agent/x", "/agent/agent.py", "/harness/grade.py",
                 os.path.join(sys.prefix, "x"), os.path.join(sys.base_prefix, "x"), "/proc/sys/kernel/hostname"]:
        probe(path, lambda: open(path, "w").write("pwned"))
    open("/scratch/ok.txt", "w").write("fine")
    """)
    assert r.exit_code == 0, r
    assert world.snapshot(world.agent, world.harness) == before
    assert (world.scratch / "ok.txt").read_text() == "fine"  # scratch itself is writable
    record(recorder, "write outside scratch (/, /etc, /usr, read-only mounts, the venv, /proc/sys)",
           sandbox, _blocked(r, 9))


def test_tamper_with_harness_and_scorer(sandbox, world, recorder):
    before = world.snapshot(world.harness)
    r = attack(sandbox, world, PROBE + """
    import os, shutil
    probe("chmod", lambda: os.chmod("/harness/grade.py", 0o777))
    probe("rename", lambda: os.rename("/harness/grade.py", "/harness/old.py"))
    probe("unlink", lambda: os.unlink("/harness/grade.py"))
    probe("replace", lambda: shutil.copy("/scratch/task.txt", "/harness/grade.py"))
    probe("touch-times", lambda: os.utime("/harness/grade.py", (0, 0)))
    probe("host-scorer", lambda: open(sys.argv[2], "a").write("SCORE = 1.0"))
    """, REPO / "evaluators" / "swe-mini" / "scorer.py")
    assert r.exit_code == 0, r
    assert world.snapshot(world.harness) == before
    record(recorder, "tamper with harness (read-only mount) and scorer (host only) files", sandbox,
           _blocked(r, 6))


def test_signal_host_processes(sandbox, world, recorder):
    victim = subprocess.Popen(["sleep", "60"])
    try:
        r = attack(sandbox, world, PROBE + """
        import os, signal
        probe("victim", lambda: os.kill(int(sys.argv[2]), signal.SIGKILL))
        probe("engine", lambda: os.kill(int(sys.argv[3]), signal.SIGKILL))
        probe("ptrace-engine", lambda: open(f"/proc/{sys.argv[3]}/mem", "rb").read(1))
        probe("kill-1", lambda: os.kill(-1, signal.SIGKILL) or
              hidden(os.path.exists(f"/proc/{sys.argv[2]}"), "host processes are not even visible"))
        """, victim.pid, os.getpid())
        time.sleep(0.2)
        assert victim.poll() is None, "a host process was killed from inside the sandbox"
    finally:
        victim.kill()
        victim.wait()
    assert "ESCAPED" not in r.stdout
    assert len(_lines(r)) >= 3, r  # kill -1 may take the sandbox's own init down before it prints
    record(recorder, "signal host processes (a host sleep, the engine, kill -1)", sandbox,
           f"{_summary(r)}; host processes untouched; run: {r.reason or 'exit 0'}")


def test_fork_bomb(sandbox, world, recorder):
    limits = Limits(seconds=4, memory_mb=512, cpus=1, pids=64, scratch_mb=64)
    r = attack(sandbox, world, """
    import os, time
    n = 0
    while True:  # a wide bomb first: how many processes do we get?
        try:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            n += 1
        except OSError as e:
            print("fork refused after", n, "children:", type(e).__name__, e, flush=True)
            break
    while True:  # then the classic exponential one, until the timeout
        try:
            os.fork()
        except OSError:
            pass
    """, limits=limits)
    assert r.timed_out and "timed out" in r.reason
    assert "fork refused" in r.stdout, r
    n = int(r.stdout.split("after")[1].split()[0])
    assert n < limits.pids
    record(recorder, "fork bomb (wide, then exponential)", sandbox,
           f"fork refused after {n} children (pids limit {limits.pids}); {r.reason}")


def test_memory_bomb(sandbox, world, recorder):
    r = attack(sandbox, world, """
    hog = []
    while True:
        hog.append(bytearray(16 << 20))
        hog[-1][::4096] = b"x" * len(hog[-1][::4096])
    """, limits=Limits(seconds=30, memory_mb=256, pids=64, scratch_mb=64))
    assert r.oom_killed and not r.timed_out, r
    assert "out of memory" in r.reason
    record(recorder, "memory bomb", sandbox, r.reason)


def test_cpu_spin_past_the_timeout(sandbox, world, recorder):
    r = attack(sandbox, world, "while True: pass", limits=Limits(seconds=2, memory_mb=256, scratch_mb=64))
    assert r.timed_out and r.exit_code is None
    assert r.reason == "timed out after 2 s"
    assert r.seconds < 2 + 5
    record(recorder, "CPU spin past the timeout", sandbox, f"{r.reason} (returned after {r.seconds:.1f} s)")


def test_fill_the_disk_past_the_scratch_quota(sandbox, world, recorder):
    limits = Limits(seconds=60, memory_mb=512, pids=64, file_size_mb=1024, scratch_mb=32)
    r = attack(sandbox, world, """
    import errno
    for path in ("/scratch/fill", "/tmp/fill"):
        written = 0
        try:
            with open(path, "wb") as f:
                while written < (512 << 20):
                    f.write(b"\\0" * (1 << 20))
                    f.flush()
                    written += 1 << 20
            print("ESCAPED", path, written)
        except OSError as e:
            print("blocked", path, errno.errorcode[e.errno], written >> 20, "MiB", flush=True)
    """, limits=limits)
    assert r.exit_code == 0, r
    assert "ESCAPED" not in r.stdout and r.stdout.count("ENOSPC") == 2, r.stdout
    size = sum(p.stat().st_size for p in world.scratch.rglob("*") if p.is_file())
    assert size <= 32 << 20
    record(recorder, "fill the disk past the scratch quota (scratch and /tmp)", sandbox,
           f"ENOSPC at the {limits.scratch_mb} MiB quota; host copy {size >> 20} MiB")


def test_hundred_megabytes_of_stdout(sandbox, world, recorder):
    limits = Limits(seconds=60, memory_mb=512, pids=64, scratch_mb=64)
    total = 100 << 20
    r = attack(sandbox, world, """
    import sys
    chunk = b"y" * (1 << 20)
    for _ in range(100):
        sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.write(b"THE-END")
    """, limits=limits)
    assert r.exit_code == 0, r
    cut = total + len("THE-END") - limits.output_bytes
    assert r.stdout.startswith(f"[... {cut} bytes cut by dgm ...]\n")
    assert r.stdout.endswith("THE-END") and len(r.stdout) < limits.output_bytes + 100
    record(recorder, "100 MB of stdout", sandbox, f"kept the last {limits.output_bytes} bytes, marked {cut} cut")


def test_background_process_outliving_the_run(sandbox, world, recorder):
    r = attack(sandbox, world, """
    import os, subprocess, sys, time
    subprocess.Popen(["sh", "-c", "sleep 2; echo late > /scratch/late.txt", sys.argv[1]],
                     start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if os.fork() == 0:  # a classic double-forked daemon
        os.setsid()
        if os.fork() == 0:
            time.sleep(2)
            open("/scratch/daemon.txt", "w").write("still here")
        os._exit(0)
    print("parent leaves", flush=True)
    """)
    assert r.exit_code == 0 and "parent leaves" in r.stdout, r
    time.sleep(3)
    assert not (world.scratch / "late.txt").exists() and not (world.scratch / "daemon.txt").exists()
    record(recorder, "background processes that try to outlive the run (setsid, double fork)", sandbox,
           "killed with the run; nothing ran or wrote afterwards")


def test_privilege_escalation(sandbox, world, recorder):
    r = attack(sandbox, world, PROBE + """
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    def ok(rc):
        if rc != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    probe("setuid0", lambda: os.setuid(0))
    probe("shadow", lambda: open("/etc/shadow").read())
    probe("mount", lambda: ok(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)))
    probe("unshare-userns", lambda: ok(libc.unshare(0x10000000)))
    probe("capabilities", lambda: hidden([l for l in open("/proc/self/status") if l.startswith("CapEff")
                                          and l.split()[1] != "0000000000000000"], "CapEff is 0"))
    """)
    assert r.exit_code == 0, r
    record(recorder, "privilege escalation (setuid 0, /etc/shadow, mount, user namespace, capabilities)",
           sandbox, _blocked(r, 5))


def test_hidden_data_sets(sandbox, world, recorder):
    r = attack(sandbox, world, PROBE + """
    import os, sklearn.datasets
    data = os.path.join(os.path.dirname(sklearn.datasets.__file__), "data")
    probe("fashion-mnist", lambda: os.listdir("/usr/share/datasets/fashion-mnist"))
    probe("sklearn-data", lambda: hidden(os.listdir(data), "the directory is empty"))
    probe("load_iris", lambda: sklearn.datasets.load_iris())
    probe("load_digits", lambda: sklearn.datasets.load_digits())
    """)
    assert r.exit_code == 0, r
    if os.path.isdir("/usr/share/datasets/fashion-mnist"):  # the host does have them
        assert os.listdir("/usr/share/datasets/fashion-mnist")
    record(recorder, "read the data sets (fashion-mnist, scikit-learn's bundled data)", sandbox,
           _blocked(r, 4))


def test_scratch_copy_back_cannot_reach_the_host(sandbox, world, recorder):
    canary = world.canary.read_text()
    r = attack(sandbox, world, """
    import os, sys
    os.symlink(sys.argv[2], "/scratch/evil")          # a link to a host file
    os.symlink("/etc", "/scratch/etc-link")
    open("/scratch/suid", "w").write("#!/bin/sh\\n")
    os.chmod("/scratch/suid", 0o6777)                  # setuid + setgid + world-writable
    os.mkfifo("/scratch/fifo")                         # would hang a naive copy
    os.makedirs("/scratch/" + "/".join(["d"] * 300))  # deep tree
    """, world.canary)
    assert r.exit_code == 0, r
    evil = world.scratch / "evil"
    assert evil.is_symlink() and os.readlink(evil) == str(world.canary)
    assert world.canary.read_text() == canary
    mode = stat.S_IMODE((world.scratch / "suid").stat().st_mode)
    assert mode == 0o755  # setuid, setgid and group/world write stripped
    assert not (world.scratch / "fifo").exists()
    assert (world.scratch / "/".join(["d"] * 300)).is_dir()
    record(recorder, "plant symlinks, setuid files, fifos and deep trees in scratch", sandbox,
           f"links copied back as links, never followed; mode 6777 came back as {oct(mode)[2:]}; "
           "fifo dropped; 300-deep tree copied")
