"""Helpers for the loop tests: run the real `dgm` script on the toy suite."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOY = Path(__file__).parent / "toy"
DGM = str(Path(sys.executable).parent / "dgm")


def toy_args(archive: Path, children: int = 6, *extra: str) -> list[str]:
    return [DGM, "run", "--archive", str(archive), "--suite", str(TOY / "suite"),
            "--seed-agent", str(TOY / "agent"), "--children", str(children), "--unsafe",
            "--quiet", *extra]


def run_dgm(args: list[str], timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env, **kw)

