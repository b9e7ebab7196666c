"""The llama.cpp server's lifecycle with the real default model, and the missing-model line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dgm.models.local.server import LocalServer, LocalServerError

ROOT = Path(__file__).resolve().parents[2]
DGM = str(Path(sys.executable).parent / "dgm")


def _gone(pid: int, seconds: float = 15.0) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().split(") ")[1].startswith("Z"):
                    return True  # a zombie: exited, not yet reaped by its (dead) parent
        except FileNotFoundError:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.model
def test_started_health_checked_answered_stopped_and_never_reused(default_model):
    srv = LocalServer(default_model, threads=2).start()
    pid, url = srv.pid, srv.url
    try:
        assert srv.healthy() and url.startswith("http://127.0.0.1:")
        r = httpx.post(srv.base_url + "/chat/completions", timeout=120, json={
            "model": default_model.name, "max_tokens": 8,
            "messages": [{"role": "user", "content": "Say hi."}]}).json()
        assert r["model"] == default_model.name and r["usage"]["completion_tokens"] > 0
    finally:
        srv.stop()
    assert _gone(pid) and not srv.healthy()
    with pytest.raises(httpx.HTTPError):
        httpx.get(url + "/health", timeout=3)
    with LocalServer(default_model, threads=2) as second:  # a fresh process, nothing reused
        assert second.pid != pid and second.healthy()


@pytest.mark.model
def test_a_server_dies_with_the_process_that_started_it(default_model, tmp_path):
    # The parent exits without stop(): the server sees EOF on its stdin and exits too.
    code = ("import sys, os; sys.path.insert(0, %r)\n"
            "from dgm.models.local.registry import spec\n"
            "from dgm.models.local.server import LocalServer\n"
            "s = LocalServer(spec(None), threads=1).start()\n"
            "print(s.pid, s.url, flush=True)\n"
            "os._exit(0)\n") % str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    pid, url = out.stdout.split()
    assert _gone(int(pid)), "the server outlived its parent"
    with pytest.raises(httpx.HTTPError):
        httpx.get(url + "/health", timeout=3)


def test_a_missing_model_is_one_clear_line(tmp_path):
    env = {**os.environ, "DGM_MODEL_DIR": str(tmp_path / "empty")}
    r = subprocess.run([DGM, "model", "serve"], capture_output=True, text=True, env=env,
                       timeout=120, cwd=ROOT)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "local model smollm2-135m is not installed" in r.stderr
    assert "dgm model install smollm2-135m" in r.stderr
    with pytest.raises(LocalServerError, match="not installed"):
        from dgm.models.local.registry import spec
        LocalServer(spec(None), root=tmp_path / "empty").start()
    r = subprocess.run([DGM, "model", "list"], capture_output=True, text=True, env=env,
                       timeout=120, cwd=ROOT)
    assert r.returncode == 0 and "smollm2-135m (default): not installed" in r.stdout
    assert "licence apache-2.0" in r.stdout and "b179c9523d0e" in r.stdout
