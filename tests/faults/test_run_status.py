"""A run that cannot make progress says why and fails; host faults are not the agent's."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dgm.archive.store import Archive
from tests.e2e_llm.scripted import ProposerModel, search_replace
from tests.fakes.fake_openai import Fault, FakeOpenAI

from .helpers import TOY, can_mount, dgm, fill, one_line, popen, small_tmpfs, toy_args


def _llm_args(arch, url, children=2):
    return ["run", "--proposer", "llm", "--model-url", url, "--suite", str(TOY / "suite"),
            "--seed-agent", str(TOY / "agent"), "--children", str(children), "--workers", "1",
            "--unsafe", "--quiet", "--archive", str(arch)]


class _Garbage200(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>hello</html>")

    def log_message(self, *a):
        pass


def _not_http_server():
    """A TCP server that answers every connection with bytes that are not HTTP."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.sendall(b"\x00\x01SSH-2.0-nothttp\r\n")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.getsockname()[1]}/v1"


@pytest.mark.parametrize("kind", ["not-a-url", "ftp", "no-host", "closed-port", "not-http", "garbage-200"])
def test_a_bad_endpoint_fails_at_start_in_one_line_and_writes_nothing(tmp_path, kind):
    arch = tmp_path / "archive"
    closer = None
    if kind == "not-a-url":
        url = "not a url"
    elif kind == "ftp":
        url = "ftp://127.0.0.1/v1"
    elif kind == "no-host":
        url = "http:///v1"
    elif kind == "closed-port":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
        s.close()
    elif kind == "not-http":
        closer, url = _not_http_server()
    else:
        srv = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage200)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        closer, url = srv, f"http://127.0.0.1:{srv.server_address[1]}/v1"
    t0 = time.monotonic()
    try:
        r = dgm(_llm_args(arch, url), timeout=60)
    finally:
        if closer is not None:
            (closer.shutdown() if hasattr(closer, "shutdown") and kind == "garbage-200" else closer.close())
    assert r.returncode != 0
    assert one_line(r.stderr), r.stderr
    assert "model" in r.stderr and ("endpoint" in r.stderr or "base_url" in r.stderr)
    assert time.monotonic() - t0 < 30
    assert not arch.exists()


def test_a_dead_endpoint_mid_run_stalls_with_its_cause_and_resumes_once_fixed(tmp_path):
    """The endpoint answers the start-up probe, then every completion with 500: the run
    stops with 'stalled: N consecutive endpoint faults, last: ...', exit 3, no proposal
    recorded as rejected; pointed at a live endpoint in dgm.toml, it resumes and finishes."""
    arch, cfg = tmp_path / "archive", tmp_path / "dgm.toml"
    cfg.write_text("[run]\nstall_after = 3\nfault_backoff_s = 0.05\n[run.model]\nmax_retries = 0\n")
    with FakeOpenAI(fallback=Fault("500")) as dead:
        r = dgm(["--debug", *_llm_args(arch, dead.url), "--config", str(cfg)], timeout=180)
    assert r.returncode == 3, r.stdout[-2000:] + r.stderr[-2000:]
    last = r.stderr.strip().splitlines()[-1]
    assert "stalled: 3 consecutive endpoint faults, last: model endpoint" in last, r.stderr
    assert "resume with: dgm run --archive" in last
    with Archive.open(arch, readonly=True) as a:
        assert a.run_info()["status"] == "stalled"
        assert a.query("SELECT COUNT(*) FROM proposals WHERE status='rejected'")[0][0] == 0
        assert a.query("SELECT COUNT(*) FROM agents WHERE parent IS NOT NULL")[0][0] == 0
        assert a.query("SELECT COUNT(*) FROM events WHERE kind='host_fault'")[0][0] == 3
    r = dgm(["status", "--archive", str(arch)], timeout=60)
    assert "stalled (stalled: 3 consecutive endpoint faults" in "".join(r.stdout.split("\n")), r.stdout
    model = ProposerModel([(search_replace("predict.py", "slope = 1.0", "slope = 3.0", "s"), None),
                           (search_replace("predict.py", "offset = 0.5", "offset = 2.0", "o"), None)])
    with FakeOpenAI(fallback=model) as live:
        cfg.write_text(cfg.read_text() + f'base_url = "{live.url}"\n')
        r = dgm(["run", "--archive", str(arch), "--config", str(cfg), "--unsafe", "--quiet"], timeout=180)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert f"run.model.base_url is now {live.url}" in r.stdout + r.stderr
    with Archive.open(arch, readonly=True) as a:
        assert a.run_info()["status"] == "finished"
        assert a.query("SELECT COUNT(*) FROM agents WHERE parent IS NOT NULL")[0][0] == 2


def test_proposals_that_keep_failing_for_one_cause_stall_the_run(tmp_path):
    """Every answer is unusable: the consecutive-failure cap stops the run non-zero, saying why."""
    arch, cfg = tmp_path / "archive", tmp_path / "dgm.toml"
    cfg.write_text("[run]\nchildren = 1\n")  # cap: 4 x budget + 10 = 14 in a row
    with FakeOpenAI(fallback="I would rather not edit anything.") as fake:
        r = dgm([*_llm_args(arch, fake.url, children=1), "--config", str(cfg)], timeout=240)
    assert r.returncode == 3, r.stderr[-2000:]
    assert "stalled: 14 consecutive proposal failures (edits rejected after one retry)" in r.stderr
    with Archive.open(arch, readonly=True) as a:
        assert a.run_info()["status"] == "stalled"


@pytest.mark.skipif(not can_mount(), reason="needs root to mount a small tmpfs")
def test_a_disk_full_for_a_few_seconds_is_retried_and_never_blamed_on_an_agent(tmp_path):
    """TMPDIR on a 4 MiB tmpfs, filled for 4 s while the run works: the run finishes its
    budget, no proposal is rejected and no child fails for the disk; the faults are journaled."""
    arch, budget = tmp_path / "archive", 16
    with small_tmpfs(tmp_path / "tmp") as tmp:
        proc = popen(["--debug", *toy_args(arch, budget, "--workers", "2")], env={"TMPDIR": str(tmp)})
        t0 = time.monotonic()
        while not (arch / "dgm.db").exists() and time.monotonic() - t0 < 60:
            time.sleep(0.02)
        time.sleep(0.3)
        filler = fill(tmp)
        time.sleep(4)
        filler.unlink()
        out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err[-3000:]
    with Archive.open(arch, readonly=True) as a:
        assert a.run_info()["status"] == "finished"
        children = a.query("SELECT status, reason FROM agents WHERE parent IS NOT NULL")
        # duplicates of an archived program are recorded but cost no budget (docs/search.md)
        assert len([c for c in children if c[0] != "duplicate"]) == budget, children
        assert all(s != "failed" for s, _ in children), children
        reasons = [r for r, in a.query("SELECT reason FROM proposals WHERE status='rejected'")]
        assert not [r for r in reasons if "space" in (r or "").lower() or "errno" in (r or "").lower()]
        faults = a.query("SELECT data FROM events WHERE kind='host_fault'")
        assert faults and all('"disk"' in d for d, in faults), faults


def test_a_broken_git_store_is_a_host_fault_not_a_rejection(tmp_path):
    """Every tree object is removed from the store: no proposal is recorded as
    'diff does not apply'; the run stalls naming the git store, exit 3."""
    arch, cfg = tmp_path / "archive", tmp_path / "dgm.toml"
    cfg.write_text("[run]\nstall_after = 3\nfault_backoff_s = 0.05\n")
    r = dgm([*toy_args(arch, 1), "--config", str(cfg)], timeout=120)
    assert r.returncode == 0, r.stderr
    with Archive.open(arch, readonly=True) as a:
        before = a.query("SELECT COUNT(*) FROM proposals WHERE status='rejected'")[0][0]
    store = arch / "repo.git"
    trees = 0
    for obj in (store / "objects").glob("??/*"):  # every tree object goes: the store is broken
        oid = obj.parent.name + obj.name
        kind = subprocess.run(["git", f"--git-dir={store}", "cat-file", "-t", oid],
                              capture_output=True, text=True).stdout.strip()
        if kind == "tree":
            obj.unlink()
            trees += 1
    assert trees
    r = dgm(toy_args(arch, 3), timeout=120)  # resumed: the recorded settings hold
    assert r.returncode == 3, r.stdout[-2000:] + r.stderr[-2000:]
    assert "stalled: 3 consecutive git-store faults" in r.stderr, r.stderr
    with Archive.open(arch, readonly=True) as a:
        reasons = [x for x, in a.query("SELECT reason FROM proposals WHERE status='rejected'")]
        assert len(reasons) == before and not any("does not apply" in x for x in reasons[before:])
