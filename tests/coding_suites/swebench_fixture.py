"""A SWE-bench-format dataset built from scratch: three git repositories, one JSONL.

The repositories are real git histories (base commit, then the upstream fix),
kept in the three mirror layouts the suite reads: a clone, a bare clone and a
bundle. Each instance's ``patch`` and ``test_patch`` are ``git diff`` between
the base and the fix, split into source and test files as SWE-bench does.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
           "PATH": "/usr/bin:/bin"}

REPOS = {
    "acme/calc": {
        "base": {"calc/__init__.py": "def add(a, b):\n    return a + b\n\n\ndef div(a, b):\n    return a * b\n",
                 "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
                 "README.md": "calc\n"},
        "fix": {"calc/__init__.py": "def add(a, b):\n    return a + b\n\n\ndef div(a, b):\n    return a / b\n",
                "tests/test_calc.py": "from calc import add, div\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
                                      "\n\ndef test_div():\n    assert div(6, 3) == 2\n"},
        "problem": "div() multiplies instead of dividing: div(6, 3) gives 18.\n",
        "f2p": ["tests/test_calc.py::test_div"], "p2p": ["tests/test_calc.py::test_add"],
        "layout": "clone",
    },
    "acme/strs": {
        "base": {"strs/core.py": "def shout(s):\n    return s.upper()\n\n\ndef whisper(s):\n    return s.lower()\n",
                 "strs/__init__.py": "from .core import shout, whisper\n",
                 "tests/test_core.py": "from strs import whisper\n\n\ndef test_whisper():\n"
                                       "    assert whisper('HI') == 'hi'\n"},
        "fix": {"strs/core.py": "def shout(s):\n    return s.upper() + '!'\n\n\ndef whisper(s):\n    return s.lower()\n",
                "tests/test_core.py": "from strs import shout, whisper\n\n\ndef test_whisper():\n"
                                      "    assert whisper('HI') == 'hi'\n\n\ndef test_shout():\n"
                                      "    assert shout('hi') == 'HI!'\n"},
        "problem": "shout() should end with an exclamation mark: shout('hi') == 'HI!'.\n",
        "f2p": ["tests/test_core.py::test_shout"], "p2p": ["tests/test_core.py::test_whisper"],
        "layout": "bare",
    },
    "acme/mathx": {
        "base": {"mathx.py": "def square(x):\n    return x * x\n\n\ndef cube(x):\n    return x * x\n",
                 "tests/test_mathx.py": "from mathx import square\n\n\ndef test_square():\n"
                                        "    assert square(3) == 9\n"},
        "fix": {"mathx.py": "def square(x):\n    return x * x\n\n\ndef cube(x):\n    return x * x * x\n",
                "tests/test_mathx.py": "from mathx import cube, square\n\n\ndef test_square():\n"
                                       "    assert square(3) == 9\n\n\ndef test_cube():\n"
                                       "    assert cube(2) == 8\n"},
        "problem": "cube(2) returns 4, not 8.\n",
        "f2p": ["tests/test_mathx.py::test_cube"], "p2p": ["tests/test_mathx.py::test_square"],
        "layout": "bundle",
    },
}
# A wrong answer to acme/mathx: fixes cube, breaks square (a PASS_TO_PASS regression).
REGRESSION = ("diff --git a/mathx.py b/mathx.py\n--- a/mathx.py\n+++ b/mathx.py\n@@ -1,6 +1,6 @@\n"
              " def square(x):\n-    return x * x\n+    return x * x * x\n \n \n def cube(x):\n"
              "-    return x * x\n+    return x * x * x\n")


def git(args: list[str], cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True,
                          text=True).stdout


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def build_dataset(root: Path, json_lists: bool = True) -> tuple[Path, Path, dict[str, dict]]:
    """Write ``root/repos`` (the mirror) and ``root/instances.jsonl``; returns them and the instances."""
    mirror, work = root / "repos", root / "work"
    mirror.mkdir(parents=True)
    instances = {}
    for n, (repo, d) in enumerate(REPOS.items(), 1):
        flat = repo.replace("/", "__")
        src = work / flat
        src.mkdir(parents=True)
        git(["init", "-q", "-b", "main"], src)
        _write(src, d["base"])
        git(["add", "-A"], src)
        git(["commit", "-qm", "base"], src)
        base = git(["rev-parse", "HEAD"], src).strip()
        _write(src, d["fix"])
        git(["add", "-A"], src)
        git(["commit", "-qm", "the upstream fix"], src)
        gold = git(["diff", base, "HEAD", "--", ".", ":!tests"], src)
        tests = git(["diff", base, "HEAD", "--", "tests"], src)
        if d["layout"] == "clone":
            git(["clone", "-q", str(src), str(mirror / flat)], root)
        elif d["layout"] == "bare":
            git(["clone", "-q", "--bare", str(src), str(mirror / f"{flat}.git")], root)
        else:
            git(["bundle", "create", "-q", str(mirror / f"{flat}.bundle"), "--all"], src)
        iid = f"{flat}-{n}"
        enc = json.dumps if json_lists and n % 2 else (lambda v: v)  # both encodings, as in the wild
        instances[iid] = {"repo": repo, "instance_id": iid, "base_commit": base, "patch": gold,
                          "test_patch": tests, "problem_statement": d["problem"], "hints_text": "",
                          "created_at": "2024-01-01T00:00:00Z", "version": "1.0",
                          "FAIL_TO_PASS": enc(d["f2p"]), "PASS_TO_PASS": enc(d["p2p"]),
                          "environment_setup_commit": base}
    path = root / "instances.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in instances.values()))
    return path, mirror, instances
