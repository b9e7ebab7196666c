"""Start, health-check and stop a local llama.cpp server for one model.

``LocalServer(spec).start()`` runs ``dgm.models.local.serve_proc`` as a child
process on 127.0.0.1 with a kernel-chosen free port, waits for its address line,
then polls ``/health`` until the model answers. ``stop()`` closes the child's
stdin (its signal to exit), then terminates and kills it if it lingers. Each
start is a fresh process on a fresh port: nothing of an earlier server is reused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import httpx

from dgm.errors import DgmError
from dgm.models.local.install import installed
from dgm.models.local.registry import ModelSpec, model_path


class LocalServerError(DgmError):
    pass


def _threads() -> int:
    """$DGM_MODEL_THREADS, else 1. llama.cpp's threads synchronise at every layer, so
    when other processes share the cores (a run's own evaluations do) a second thread
    makes generation ~30x *slower* (measured on 2 busy cores: 0.2-0.4 vs 12.9 tokens/s);
    on an otherwise idle machine set DGM_MODEL_THREADS to the core count."""
    env = os.environ.get("DGM_MODEL_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return 1


class LocalServer:
    """One llama.cpp server process serving ``spec`` under the alias ``spec.name``."""

    def __init__(self, spec: ModelSpec, root: Path | None = None, threads: int | None = None,
                 parallel: int = 1, startup_seconds: float = 120.0, log=lambda line: None):
        self.spec = spec
        self.root = root
        self.threads = threads or _threads()
        self.parallel = parallel
        self.startup_seconds = startup_seconds
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None  # http://127.0.0.1:PORT
        self._stderr: deque[str] = deque(maxlen=40)

    @property
    def base_url(self) -> str:
        if self.url is None:
            raise LocalServerError("the local model server is not running")
        return self.url + "/v1"

    def start(self) -> "LocalServer":
        path = installed(self.spec, self.root)
        if path is None:
            where = model_path(self.spec, self.root)
            raise LocalServerError(f"local model {self.spec.name} is not installed (no verified "
                                   f"{where}): run `dgm model install {self.spec.name}`")
        cmd = [sys.executable, "-m", "dgm.models.local.serve_proc", "--model", str(path),
               "--alias", self.spec.name, "--ctx", str(self.spec.n_ctx),
               "--threads", str(self.threads), "--parallel", str(self.parallel)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).resolve().parents[3]), os.environ.get("PYTHONPATH", "")])}
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, start_new_session=True)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        try:
            info = self._read_address()
            self.url = info["url"].rstrip("/")
            self._wait_healthy(t0)
        except BaseException:
            self.stop()
            raise
        self.log(f"local model: {self.spec.name} ({self.spec.license}) serving at {self.url} "
                 f"(pid {self.proc.pid}, {self.threads} threads, started in "
                 f"{time.monotonic() - t0:.1f} s)")
        return self

    def _drain_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for raw in self.proc.stderr:
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())

    def _read_address(self) -> dict:
        assert self.proc is not None and self.proc.stdout is not None
        result: dict = {}

        def read() -> None:
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            try:
                result.update(json.loads(line or b"{}"))
            except ValueError:
                result["error"] = f"unexpected output {line[:200]!r}"

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(self.startup_seconds)
        if "error" in result:
            raise LocalServerError(f"local model {self.spec.name}: {result['error']}")
        if "url" not in result:
            tail = " | ".join(list(self._stderr)[-3:])
            raise LocalServerError(f"local model {self.spec.name}: the server did not start within "
                                   f"{self.startup_seconds:g} s (exit {self.proc.poll()}): {tail}")
        return result

    def _wait_healthy(self, t0: float) -> None:
        last = ""
        while time.monotonic() - t0 < self.startup_seconds:
            if self.proc is not None and self.proc.poll() is not None:
                raise LocalServerError(f"local model {self.spec.name}: the server exited "
                                       f"({self.proc.returncode}): "
                                       + " | ".join(list(self._stderr)[-3:]))
            if self.healthy():
                return
            time.sleep(0.2)
        raise LocalServerError(f"local model {self.spec.name}: /health did not answer ok "
                               f"within {self.startup_seconds:g} s {last}")

    def healthy(self) -> bool:
        if self.url is None:
            return False
        try:
            r = httpx.get(self.url + "/health", timeout=5.0)
            return r.status_code == 200 and r.json().get("status") == "ok"
        except (httpx.HTTPError, ValueError):
            return False

    def stop(self, grace: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        self.url = None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
