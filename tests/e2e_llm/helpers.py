"""Helpers for the end-to-end tests of the foundation-model path: the real `dgm` script,
run as a subprocess against the fake model server (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DGM = str(Path(sys.executable).parent / "dgm")
TOY = ROOT / "tests" / "loop" / "toy"
SECRET = "sk-e2e-REAL-KEY-9f8e7d6c5b4a-must-stay-on-the-host"


def run_dgm(args: list[str], timeout: float = 600, env: dict | None = None,
            cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``dgm <args>`` with the real key in the host environment only."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "OPENAI_API_KEY": SECRET, **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    return subprocess.run([DGM, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=full_env)


def db_dump(archive: Path) -> str:
    """Every row of the archive's database as text (to search for leaked secrets)."""
    conn = sqlite3.connect(f"file:{archive / 'dgm.db'}?mode=ro", uri=True)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()
