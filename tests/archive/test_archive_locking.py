"""One writer process per archive (flock), readers never blocked (WAL): real subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from dgm.archive.store import Archive
from dgm.errors import ArchiveLocked

from archive_helpers import SEED_FILES, read_tree

DGM = os.path.join(os.path.dirname(sys.executable), "dgm")

# A writer that opens the archive, optionally leaves a write transaction open, and
# waits for a line on stdin before closing.
WRITER = textwrap.dedent("""
    import sys, time
    from dgm.archive.store import Archive
    a = Archive.open(sys.argv[1])
    if sys.argv[2] == "txn":
        a.db.execute("BEGIN IMMEDIATE")
        a.db.execute("INSERT INTO events (ts, kind) VALUES (?, 'uncommitted')", [time.time()])
    print("ready", flush=True)
    sys.stdin.readline()
    if sys.argv[2] == "txn":
        a.db.execute("COMMIT")
    a.close()
""")


@pytest.fixture
def arc(tmp_path, seed_dir):
    with Archive.create(tmp_path / "arc") as a:
        sid = a.add_seed(seed_dir)
        a.record_event("committed")
    return tmp_path / "arc", sid


def start_writer(path, mode="idle"):
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(path), mode], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.strip() == "ready", p.stderr.read()
    return p


def stop(p):
    p.stdin.write("\n")
    p.stdin.flush()
    assert p.wait(timeout=20) == 0, p.stderr.read()


@pytest.mark.timeout(60)
def test_second_writer_process_gets_archive_locked(arc):
    path, _ = arc
    p = start_writer(path)
    try:
        with pytest.raises(ArchiveLocked, match=f"pid {p.pid}"):
            Archive.open(path)
    finally:
        stop(p)
    Archive.open(path).close()  # free again once the writer has gone


@pytest.mark.timeout(60)
def test_a_killed_writer_releases_the_lock(arc):
    path, _ = arc
    p = start_writer(path)
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=20)
    with Archive.open(path) as a:  # flock dies with its process: no stale lock file to clear
        assert a.count() == 1


@pytest.mark.timeout(60)
def test_this_process_holds_the_lock_against_a_subprocess(arc):
    path, _ = arc
    with Archive.open(path):
        r = subprocess.run([sys.executable, "-c", WRITER, str(path), "idle"], input="\n",
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and "ArchiveLocked" in r.stderr
        assert f"pid {os.getpid()}" in r.stderr
        # and the same process cannot open a second writer either
        with pytest.raises(ArchiveLocked):
            Archive.open(path)


@pytest.mark.timeout(60)
def test_readers_are_not_blocked_by_an_open_write_transaction(arc, tmp_path):
    path, sid = arc
    p = start_writer(path, "txn")
    try:
        with Archive.open(path, readonly=True) as r:
            assert [e["kind"] for e in r.events()] == ["committed"]  # sees committed data only
            assert r.check() == []
            assert read_tree(r.materialize(sid, tmp_path / "m")) == SEED_FILES
        # the installed CLI reads too, in its own process
        out = subprocess.run([DGM, "status", "--archive", str(path)], capture_output=True,
                             text=True, timeout=30)
        assert out.returncode == 0 and "1 agents" in " ".join(out.stdout.split()), out.stderr
    finally:
        stop(p)
    with Archive.open(path, readonly=True) as r:
        assert [e["kind"] for e in r.events()] == ["committed", "uncommitted"]


@pytest.mark.timeout(60)
def test_reader_process_during_writes_in_this_process(arc, make_diff):
    path, sid = arc
    with Archive.open(path) as w:
        for i in range(3):
            new = {**SEED_FILES, "README.md": f"v{i}\n"}
            w.add_child(sid, make_diff(SEED_FILES, new), summary=str(i), proposer="t")
        w.db.execute("BEGIN IMMEDIATE")
        try:
            w.db.execute("INSERT INTO events (ts, kind) VALUES (?, 'pending')", [time.time()])
            out = subprocess.run([DGM, "check", "--archive", str(path)], capture_output=True,
                                 text=True, timeout=30)
            assert out.returncode == 0 and "ok: 4 agents" in " ".join(out.stdout.split()), out.stderr
        finally:
            w.db.execute("COMMIT")
