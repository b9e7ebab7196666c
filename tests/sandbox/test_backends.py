"""What every backend must provide: the contract's paths, packages, tools and results."""

from __future__ import annotations

import subprocess
import textwrap
import threading

import pytest

from dgm.sandbox import Limits, Mount

pytestmark = pytest.mark.usefixtures("leaves_no_trace")


def image(sb) -> str:
    return getattr(sb, "image", None) or ""


def test_mounts_workdir_and_results(sandbox, tmp_path):
    agent, scratch = tmp_path / "agent", tmp_path / "scratch"
    agent.mkdir()
    scratch.mkdir()
    (agent / "main.py").write_text(textwrap.dedent("""
        import os, sys
        print("cwd", os.getcwd())
        print(open("/scratch/in.txt").read())
        open("/scratch/out.txt", "w").write("written inside")
        os.makedirs("/scratch/sub/dir")
        os.remove("/scratch/old.txt")
        print("to stderr", file=sys.stderr)
        sys.exit(7)
    """))
    (scratch / "in.txt").write_text("input")
    (scratch / "old.txt").write_text("to delete")
    r = sandbox.run(image(sandbox), ["python3", "/agent/main.py"],
                    mounts=[Mount(agent, "/agent"), Mount(scratch, "/scratch", writable=True)],
                    limits=Limits(seconds=60))
    assert r.exit_code == 7 and r.reason == "exit code 7" and not r.ok
    assert "cwd /scratch" in r.stdout and "input" in r.stdout and "to stderr" in r.stderr
    assert (scratch / "out.txt").read_text() == "written inside"
    assert (scratch / "sub" / "dir").is_dir() and not (scratch / "old.txt").exists()
    assert r.backend == sandbox.name and r.image_digest and r.seconds > 0


def test_packages_and_git_inside(sandbox, tmp_path):
    testbed = tmp_path / "testbed"
    testbed.mkdir()
    subprocess.run(["git", "init", "-q", str(testbed)], check=True)
    (testbed / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    subprocess.run(["git", "-C", str(testbed), "add", "."], check=True)
    subprocess.run(["git", "-C", str(testbed), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-qm", "base"], check=True)
    script = textwrap.dedent("""
        set -e
        python3 -c 'import torch, numpy, sklearn, scipy, pytest, openai; print("torch", torch.__version__)'
        sed -i 's/a - b/a + b/' calc.py
        git diff --stat
        git -c user.name=agent -c user.email=a@b commit -qam fix && git log --oneline | wc -l
        whoami
    """)
    r = sandbox.run(image(sandbox), ["sh", "-c", script], mounts=[Mount(testbed, "/testbed", writable=True)],
                    limits=Limits(seconds=120), workdir="/testbed")
    assert r.exit_code == 0, r
    assert "torch 2." in r.stdout and "1 file changed" in r.stdout
    assert r.stdout.split()[-2:] == ["2", "agent"]
    assert "a + b" in (testbed / "calc.py").read_text()
    log = subprocess.run(["git", "-C", str(testbed), "log", "--oneline"], capture_output=True, text=True)
    assert len(log.stdout.splitlines()) == 2  # the commit made inside came back


def test_tmp_is_writable_and_workdir_outside_mounts_falls_back(sandbox):
    r = sandbox.run(image(sandbox), ["sh", "-c", "pwd; echo x > /tmp/f && cat /tmp/f; id -u"],
                    workdir="/nowhere", limits=Limits(seconds=30))
    assert r.exit_code == 0, r
    out = r.stdout.split()
    assert out[:2] == ["/tmp", "x"] and out[2] != "0"


def test_concurrent_runs(sandbox, tmp_path):
    results = {}

    def one(i: int) -> None:
        d = tmp_path / f"s{i}"
        d.mkdir()
        results[i] = sandbox.run(image(sandbox), ["sh", "-c", f"echo {i} > /scratch/n; cat /scratch/n"],
                                 mounts=[Mount(d, "/scratch", writable=True)], limits=Limits(seconds=60))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(3):
        assert results[i].exit_code == 0 and results[i].stdout.strip() == str(i), results[i]
        assert (tmp_path / f"s{i}" / "n").read_text().strip() == str(i)
