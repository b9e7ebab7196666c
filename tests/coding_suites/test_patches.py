"""Diff handling: splitting, test-file stripping, making diffs git can apply."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from dgm_codingkit import gitrepo
from dgm_codingkit.patches import (changed_paths, file_diff, is_test_path, split_diff,
                                   strip_test_changes)

HARNESS = Path(__file__).resolve().parents[2] / "evaluators" / "swe-mini" / "harness"

GIT_DIFF = """\
diff --git a/pkg/mod.py b/pkg/mod.py
index 1111111..2222222 100644
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -1,3 +1,3 @@
 def f():
--- not a header, a removed line that starts with two dashes
+++ not a header either
diff --git a/tests/test_mod.py b/tests/test_mod.py
index 3333333..4444444 100644
--- a/tests/test_mod.py
+++ b/tests/test_mod.py
@@ -1 +1 @@
-assert f() == 1
+assert True
diff --git a/conftest.py b/conftest.py
new file mode 100644
index 0000000..5555555
--- /dev/null
+++ b/conftest.py
@@ -0,0 +1 @@
+import pytest
diff --git a/old_name.py b/tests/helper.py
similarity index 100%
rename from old_name.py
rename to tests/helper.py
diff --git a/pkg/gone.py b/pkg/gone.py
deleted file mode 100644
index 6666666..0000000
--- a/pkg/gone.py
+++ /dev/null
@@ -1 +0,0 @@
-x = 1
"""


def test_split_git_diff_into_file_blocks():
    preamble, blocks = split_diff(GIT_DIFF)
    assert preamble == ""
    assert [(b.old, b.new) for b in blocks] == [
        ("pkg/mod.py", "pkg/mod.py"), ("tests/test_mod.py", "tests/test_mod.py"),
        (None, "conftest.py"), ("old_name.py", "tests/helper.py"), ("pkg/gone.py", None)]
    assert "".join(b.text for b in blocks) == GIT_DIFF


def test_strip_drops_every_block_touching_a_test_path():
    kept, dropped = strip_test_changes(GIT_DIFF)
    assert dropped == ["tests/test_mod.py", "conftest.py", "old_name.py", "tests/helper.py"]
    assert changed_paths(kept) == ["pkg/mod.py", "pkg/gone.py"]
    assert "--- not a header" in kept  # hunk content is never mistaken for a header


def test_plain_unified_diff_is_split_too():
    text = ("--- a/tests/test_x.py\n+++ b/tests/test_x.py\n@@ -1 +1 @@\n-a\n+b\n"
            "--- a/src/x.py\n+++ b/src/x.py\n@@ -1 +1 @@\n-c\n+d\n")
    kept, dropped = strip_test_changes(text)
    assert dropped == ["tests/test_x.py"]
    assert kept.startswith("--- a/src/x.py")


@pytest.mark.parametrize("path, expected", [
    ("tests/test_a.py", True), ("tests/data/input.json", True), ("pkg/tests/util.py", True),
    ("test_x.py", True), ("pkg/x_test.py", True), ("conftest.py", True), ("sub/conftest.py", True),
    ("tests", True), ("testing/helpers.py", True),
    ("pkg/testsuite.py", False), ("pkg/contest.py", False), ("src/latest.py", False),
    ("pytest.ini", False), ("pkg/attest/x.py", False), ("README.md", False),
])
def test_is_test_path(path, expected):
    assert is_test_path(path) is expected


def test_in_sandbox_grader_uses_the_same_test_path_rule():
    spec = importlib.util.spec_from_file_location("swe_grade_harness", HARNESS / "grade.py")
    grade = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grade)
    paths = ["tests/test_a.py", "a/tests/b.py", "conftest.py", "x_test.py", "test_y.py", "tests",
             "testing/z.py", "pkg/mod.py", "setup.py", "pkg/testsuite.py", "docs/test.md",
             "latest_test.txt", "test/x.txt"]
    assert [grade.is_test_path(p) for p in paths] == [is_test_path(p) for p in paths]


@pytest.mark.parametrize("old, new", [
    ("a\nb\nc\n", "a\nB\nc\n"),
    ("a\nb", "a\nb\n"),            # adds the final newline
    ("a\nb\n", "a\nc"),            # removes it
    (None, "new file\n"),
    ("bye\n", None),
])
def test_file_diff_applies_with_git(tmp_path, old, new):
    files = {"keep.txt": b"keep\n"}
    if old is not None:
        files["f.txt"] = old.encode()
    repo = tmp_path / "r"
    gitrepo.make_repo(files, repo)
    patch = file_diff("f.txt", old, new)
    subprocess.run(["git", "apply", "-"], cwd=repo, input=patch.encode(), check=True)
    target = repo / "f.txt"
    assert (target.read_text() if target.exists() else None) == new


def test_file_diff_of_identical_text_is_empty():
    assert file_diff("f.txt", "same\n", "same\n") == ""
