"""dgm serve: a real server process on a live archive, and one clear line for bad input."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys

import httpx
import typer
from typer.testing import CliRunner

from dgm.archive.store import Archive
from dgm.cli import view_cmds

from web_builders import SEED_FILES, file_diff

CLI = ("import typer; from dgm.cli import view_cmds; app = typer.Typer(); "
       "view_cmds.register(app); app()")


def cli() -> typer.Typer:
    app = typer.Typer()
    view_cmds.register(app)
    return app


def one_error_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    return lines[0]


def test_port_in_use_is_one_line(built):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = CliRunner().invoke(cli(), ["serve", "--archive", str(built[0]), "--port", str(port)])
    assert one_error_line(r) == (f"error: port {port} on 127.0.0.1 is already in use; choose "
                                 "another with --port (--port 0 picks a free one)")


def test_unusable_host_and_missing_archive_are_one_line(built, tmp_path):
    r = CliRunner().invoke(cli(), ["serve", "--archive", str(built[0]), "--host", "192.0.2.1",
                                   "--port", "0"])
    assert "cannot listen on 192.0.2.1:0" in one_error_line(r)
    r = CliRunner().invoke(cli(), ["serve", "--archive", str(tmp_path / "nope")])
    assert "no archive at" in one_error_line(r)


def test_serve_follows_a_running_loop(writable):
    """The writer holds the archive's lock (as a loop does); serve reads it live."""
    path, ids = writable
    with Archive.open(path) as writer:
        proc = subprocess.Popen([sys.executable, "-c", CLI, "serve", "--archive", str(path),
                                 "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            line = proc.stdout.readline()
            m = re.search(r"at (http://127\.0\.0\.1:\d+)/ \(read-only", line)
            assert m, line + proc.stderr.read() if proc.poll() is not None else line
            url = m.group(1)
            with httpx.Client(base_url=url, timeout=10) as http:
                assert http.get("/api/summary").json()["agents"] == 6
                base = SEED_FILES["solve.py"]
                new = writer.add_child(ids["seed"], file_diff("solve.py", base, base + "# x\n"),
                                       summary="while serving", proposer="mutation").agent_id
                assert http.get("/api/summary").json()["agents"] == 7
                page = http.get(f"/agent/{new}")
                assert page.status_code == 200 and "while serving" in page.text
                assert "script-src 'self'" in page.headers["content-security-policy"]
                r = http.get("/api/agents/424242")
                assert r.status_code == 404 and "unknown agent '424242'" in r.json()["error"]
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    assert proc.returncode == 0, proc.stderr.read()
