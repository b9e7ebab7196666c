"""An installed wheel works outside the checkout: built from this tree, installed into a fresh
venv (its dependencies borrowed from the running venv's site-packages, so nothing is
downloaded), it imports dgm.sandbox, finds the shipped suites and agents, and `dgm run`s the
toy suite from another directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def sh(*args: str, cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    r = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{args}: {r.stdout[-2000:]}{r.stderr[-3000:]}"
    return r


@pytest.mark.slow
def test_wheel_installed_outside_the_checkout_runs_the_toy_suite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # setuptools builds in the source tree (build/, *.egg-info): build from a copy of it
    src = tmp_path / "src"
    caches = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache",
                                    "test-artifacts")

    def skip(directory: str, names: list[str]) -> set[str]:
        # the runs' archive/ folder is the checkout's own; dgm/archive/ is the package
        return set(caches(directory, names)) | ({"archive"} & set(names) if Path(directory) == ROOT else set())

    shutil.copytree(ROOT, src, symlinks=True, ignore=skip)
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
       "-w", str(tmp_path / "dist"), str(src), cwd=tmp_path, env=env)
    (wheel,) = (tmp_path / "dist").glob("dgm-*.whl")
    venv = tmp_path / "venv"
    sh(sys.executable, "-m", "venv", "--without-pip", str(venv), cwd=tmp_path, env=env)
    py = venv / "bin" / "python"
    site = Path(sh(str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                   cwd=tmp_path, env=env).stdout.strip())
    # a plain path line: the running venv's packages, without its .pth hooks (which would
    # put the editable checkout of dgm back on the path)
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    sh(sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q",
       str(wheel), cwd=tmp_path, env=env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = sh(str(py), "-c", "import dgm, dgm.sandbox, dgm.suites as s; print(dgm.__file__); "
               "print(sorted(s.known_suites()))", cwd=elsewhere, env=env).stdout.splitlines()
    assert where[0].startswith(str(site)), where  # the installed copy, not the checkout
    assert all(n in where[1] for n in ("icl", "swe-mini", "humaneval", "toy-fit")), where
    dgm = str(venv / "bin" / "dgm")
    assert "ok: suite toy-fit" in sh(dgm, "suite", "check", "toy-fit", cwd=elsewhere, env=env).stdout
    r = sh(dgm, "run", "--suite", "toy-fit", "--seed-agent", "toy", "--children", "2",
           "--workers", "1", "--unsafe", "--quiet", "--archive", "a", cwd=elsewhere, env=env)
    assert "best agent" in r.stdout
    status = sh(dgm, "status", "--archive", "a", cwd=elsewhere, env=env).stdout
    assert "3 agents" in status and "finished" in status
