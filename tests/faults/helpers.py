"""Helpers for the fault tests: the real `dgm` script on the toy suite, a small full disk."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DGM = str(Path(sys.executable).parent / "dgm")
TOY = ROOT / "tests" / "loop" / "toy"


def toy_args(archive: Path, children: int = 6, *extra: str) -> list[str]:
    return ["run", "--archive", str(archive), "--suite", str(TOY / "suite"),
            "--seed-agent", str(TOY / "agent"), "--children", str(children), "--unsafe",
            "--quiet", *extra]


def dgm(args: list[str], timeout: float = 180, env: dict | None = None, cwd: Path = ROOT,
        **kw) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONUNBUFFERED": "1", "OPENAI_API_KEY": "sk-test", **(env or {})}
    full = {k: v for k, v in full.items() if v is not None}
    return subprocess.run([DGM, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=full, **kw)


def popen(args: list[str], env: dict | None = None, cwd: Path = ROOT) -> subprocess.Popen:
    full = {**os.environ, "PYTHONUNBUFFERED": "1", "OPENAI_API_KEY": "sk-test", **(env or {})}
    return subprocess.Popen([DGM, *args], cwd=cwd, env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def can_mount() -> bool:
    return os.geteuid() == 0


@contextmanager
def small_tmpfs(path: Path, size: str = "4m"):
    """A real tmpfs of ``size`` at ``path`` (root only): a disk that can be filled."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> Path:
    """Fill the file system holding ``path`` to the last byte; returns the filler file."""
    filler = path / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 16, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1 and "Traceback" not in text
