"""Parsing and applying model edits: formats, and a precise error for every failure."""

import os

import pytest

from dgm.proposers.edits import EditError, apply_edits, check_path, parse_edits
from dgm.proposers.workcopy import WorkCopy

F = "```"


@pytest.fixture
def agent(tmp_path):
    root = tmp_path / "agent"
    (root / "pkg").mkdir(parents=True)
    (root / "main.py").write_text("def f():\n    return 1\n\n\ndef g():\n    return 1\n")
    (root / "pkg" / "util.py").write_text("X = 1\nY = 2  \n")
    (root / "agent.toml").write_text('name = "t"\n')
    return root


def apply(root, text):
    return apply_edits(root, parse_edits(text))


@pytest.mark.parametrize("text", [
    "main.py\n<<<<<<< SEARCH\ndef f():\n    return 1\n=======\ndef f():\n    return 2\n>>>>>>> REPLACE\n",
    f"main.py\n{F}python\n<<<<<<< SEARCH\ndef f():\n    return 1\n=======\ndef f():\n    return 2\n>>>>>>> REPLACE\n{F}\n",
    f"{F}python\nmain.py\n<<<<<<< SEARCH\ndef f():\n    return 1\n=======\ndef f():\n    return 2\n>>>>>>> REPLACE\n{F}\n",
    f"Here you go.\n\n**`main.py`**:\n{F}\n<<<<<<< SEARCH\ndef f():\n    return 1\n=======\ndef f():\n    return 2\n>>>>>>> REPLACE\n{F}",
    f"{F}diff\n--- a/main.py\n+++ b/main.py\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n{F}\n",
    "--- main.py\n+++ main.py\n@@ -40,7 +40,7 @@ wrong numbers are fine\n def f():\n-    return 1\n+    return 2\n",
])
def test_formats_that_apply(agent, text):
    report = apply(agent, text)
    assert report.ok, report.errors
    assert (agent / "main.py").read_text().startswith("def f():\n    return 2\n")
    assert (agent / "main.py").read_text().endswith("def g():\n    return 1\n")


def test_create_delete_insert_and_consecutive_blocks(agent):
    text = ("new/mod.py\n<<<<<<< SEARCH\n=======\nA = 1\n>>>>>>> REPLACE\n\n"
            "pkg/util.py\n<<<<<<< SEARCH\nX = 1\n=======\nX = 10\n>>>>>>> REPLACE\n"
            "<<<<<<< SEARCH\nY = 2\n=======\nY = 20\n>>>>>>> REPLACE\n"
            "--- a/agent.toml\n+++ /dev/null\n@@ -1 +0,0 @@\n-name = \"t\"\n"
            "--- a/main.py\n+++ b/main.py\n@@ -0,0 +1,1 @@\n+import os\n")
    report = apply(agent, text)
    assert report.ok, report.errors
    assert (agent / "new" / "mod.py").read_text() == "A = 1\n"
    assert (agent / "pkg" / "util.py").read_text() == "X = 10\nY = 20\n"  # trailing spaces tolerated
    assert not (agent / "agent.toml").exists()
    assert (agent / "main.py").read_text().startswith("import os\ndef f()")


@pytest.mark.parametrize("text,reason", [
    ("no edits here", "no edits found"),
    ("main.py\n<<<<<<< SEARCH\ndef f():\n", "has no ======="),
    ("main.py\n<<<<<<< SEARCH\ndef f():\n=======\nx\n", "no >>>>>>> REPLACE"),
    ("main.py\n<<<<<<< SEARCH\na\n<<<<<<< SEARCH\n", "second <<<<<<< SEARCH"),
    ("main.py\n<<<<<<< SEARCH\na\n=======\nb\n=======\nc\n>>>>>>> REPLACE", "second ======="),
    ("main.py\n<<<<<<< SEARCH\na\n>>>>>>> REPLACE", "without ======="),
    ("=======\nstuff", "stray"),
    ("text\n>>>>>>> REPLACE", "stray"),
    ("<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE", "no file path"),
    ("Please edit this file:\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE", "no file path"),
    ("@@ -1 +1 @@\n-a\n+b\n", "hunk without ---/"),
    ("--- a/x.py\n+++ b/x.py\nnothing\n", "without any @@ hunk"),
    ("rename from a.py\nrename to b.py\n", "renames"),
    ("x" * 500_001, "too large"),
    ("main.py\n<<<<<<< SEARCH\n\x00\n=======\n>>>>>>> REPLACE", "NUL"),
])
def test_parse_errors_are_precise(text, reason):
    with pytest.raises(EditError, match=reason):
        parse_edits(text)


@pytest.mark.parametrize("path,reason", [
    ("../evil.py", "escapes"), ("/etc/passwd", "absolute"), (".git/config", ".git"),
    ("pkg/../../x", "escapes"), ("~/x", "absolute"), ("C:/x", "absolute"),
    ("sub/.GIT/hooks/pre-commit", ".git"),
])
def test_paths_outside_the_agent_are_refused(agent, path, reason):
    report = apply(agent, f"{path}\n<<<<<<< SEARCH\n=======\nboom\n>>>>>>> REPLACE\n")
    assert not report.ok and reason in report.errors[0] and "block 1" in report.errors[0]


def test_symlink_escape_is_refused(agent, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, agent / "link")
    report = apply(agent, "link/x.py\n<<<<<<< SEARCH\n=======\nboom\n>>>>>>> REPLACE\n")
    assert "outside the agent" in report.errors[0]
    assert not (outside / "x.py").exists()
    with pytest.raises(EditError):
        check_path(agent, "link/x.py")


def test_apply_errors_name_the_block_and_keep_going(agent):
    text = ("main.py\n<<<<<<< SEARCH\n    return 1\n=======\n    return 3\n>>>>>>> REPLACE\n"
            "main.py\n<<<<<<< SEARCH\nnot there at all\n=======\nx\n>>>>>>> REPLACE\n"
            "pkg/util.py\n<<<<<<< SEARCH\nX = 1\n=======\nX = 5\n>>>>>>> REPLACE\n"
            "missing.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n"
            "main.py\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\n"
            "pkg\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n"
            "pkg/util.py\n<<<<<<< SEARCH\nY = 2\n=======\nY = '\x07'\n>>>>>>> REPLACE\n")
    report = apply(agent, text)
    assert report.applied == ["block 3: edited pkg/util.py"]
    e = report.errors
    assert len(e) == 6
    assert "block 1" in e[0] and "matches 2 places" in e[0] and "lines 2, 6" in e[0]
    assert "block 2" in e[1] and "not found" in e[1]
    assert "block 4" in e[2] and "does not exist" in e[2]
    assert "block 5" in e[3] and "already exists" in e[3]
    assert "block 6" in e[4] and "directory" in e[4]
    assert "block 7" in e[5] and "binary" in e[5]


def test_near_miss_hint_and_non_utf8_target(agent):
    (agent / "blob.dat").write_bytes(b"\xff\xfe\x00junk")
    report = apply(agent, "main.py\n<<<<<<< SEARCH\ndef f():\n    return 99\n=======\nx\n"
                          ">>>>>>> REPLACE\nblob.dat\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n")
    assert "closest text starts at line 1" in report.errors[0]
    assert "not UTF-8" in report.errors[1]


def test_oversized_result_is_refused(agent):
    big = "x = 1\n" * 100_000
    report = apply_edits(agent, parse_edits(
        f"big.py\n<<<<<<< SEARCH\n=======\n{big}>>>>>>> REPLACE\n", max_chars=10**7))
    assert "larger than" in report.errors[0]


def test_workcopy_diff_is_relative_and_applies_with_git(agent, tmp_path):
    wc = WorkCopy.create(agent, tmp_path / "wc")
    (wc.root / "__pycache__").mkdir()
    (wc.root / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\x00\x01")
    report = apply(wc.root, "main.py\n<<<<<<< SEARCH\ndef f():\n    return 1\n=======\n"
                            "def f():\n    return 2\n>>>>>>> REPLACE\nn.py\n<<<<<<< SEARCH\n"
                            "=======\nN = 1\n>>>>>>> REPLACE\n")
    assert report.ok
    diff = wc.diff()
    assert "diff --git a/main.py b/main.py" in diff and "+++ b/n.py" in diff
    assert "pycache" not in diff
    assert sorted(wc.changed_files()) == ["main.py", "n.py"]
    # the diff applies to the pristine parent with plain git
    import subprocess
    subprocess.run(["git", "init", "-q", str(tmp_path / "check")], check=True)
    for p in agent.rglob("*"):
        if p.is_file():
            dest = tmp_path / "check" / p.relative_to(agent)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(p.read_bytes())
    r = subprocess.run(["git", "-C", str(tmp_path / "check"), "apply", "-"], input=diff.encode(),
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "check" / "n.py").read_text() == "N = 1\n"
