"""Reject reasons of dgm/archive/diffcheck.py, one per kind of bad diff."""

from __future__ import annotations

import pytest

from dgm.archive.diffcheck import MAX_DIFF_BYTES, MAX_FILE_BYTES, check_diff, touched_paths

GOOD = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"


def new_file(path: str, body: str = "+x\n", mode: str = "100644") -> str:
    return (f"diff --git a/{path} b/{path}\nnew file mode {mode}\n--- /dev/null\n"
            f"+++ b/{path}\n@@ -0,0 +1 @@\n{body}")


def test_good_git_diff_passes():
    assert check_diff(GOOD) is None


def test_plain_unified_diff_with_timestamps_passes():
    plain = ("--- a/x.py\t2024-01-01 00:00:00\n+++ b/x.py\t2024-01-01 00:00:01\n"
             "@@ -1 +1 @@\n-a = 1\n+a = 2\n")
    assert check_diff(plain) is None
    assert touched_paths(plain) == {"x.py"}


@pytest.mark.parametrize("diff", ["", "   \n\t\n"])
def test_empty(diff):
    assert check_diff(diff).startswith("empty diff")


def test_prose_is_not_a_diff():
    assert "not a unified diff" in check_diff("I changed the learning rate to 0.1.\n")


@pytest.mark.parametrize("path,word", [
    ("../outside.py", "escapes"),
    ("tools/../../outside.py", "escapes"),
    ("/etc/passwd", "absolute"),
    (".git/hooks/post-commit", ".git"),
    ("sub/.git/config", ".git"),
    (".GIT/config", ".git"),
])
def test_bad_paths(path, word):
    # The path appears only on the ---/+++ lines here (no diff --git header)
    plain = f"--- /dev/null\n+++ {path}\n@@ -0,0 +1 @@\n+x\n"
    assert word in check_diff(plain)
    assert word in check_diff(new_file(path.lstrip("/")) if word != "absolute" else plain)


def test_rename_target_outside_is_caught():
    diff = ("diff --git a/x.py b/x.py\nsimilarity index 100%\nrename from x.py\n"
            "rename to ../x.py\n")
    assert "escapes" in check_diff(diff)


@pytest.mark.parametrize("diff", [
    "diff --git a/b.bin b/b.bin\nnew file mode 100644\nGIT binary patch\nliteral 3\nKcmZ>A\n\nliteral 0\n",
    "diff --git a/b.bin b/b.bin\nnew file mode 100644\nindex 0000000..1111111\nBinary files /dev/null and b/b.bin differ\n",
    new_file("nul.txt", "+a\x00b\n"),
])
def test_binary(diff):
    assert "binary" in check_diff(diff)


def test_oversized_diff():
    body = "".join(f"+line {i} {'x' * 100}\n" for i in range(MAX_DIFF_BYTES // 100))
    reason = check_diff(new_file("big.py", body))
    assert reason.startswith("diff too large")


def test_oversized_file_within_diff_limit():
    body = "+" + "y" * (MAX_FILE_BYTES + 10) + "\n"
    assert check_diff(new_file("big.py", body)).startswith("file 'big.py' too large")
    # The same amount spread over two files is fine
    half = "+" + "y" * (MAX_FILE_BYTES // 2) + "\n"
    assert check_diff(new_file("a.py", half) + new_file("b.py", half)) is None


@pytest.mark.parametrize("mode,word", [("120000", "symlinks"), ("160000", "submodules")])
def test_links_rejected(mode, word):
    assert word in check_diff(new_file("link", "+/etc/passwd\n", mode=mode))


def test_deleting_a_symlink_is_allowed():
    diff = ("diff --git a/l b/l\ndeleted file mode 120000\nindex 1111111..0000000\n"
            "--- a/l\n+++ /dev/null\n@@ -1 +0,0 @@\n-target\n")
    assert check_diff(diff) is None


def test_touched_paths_covers_headers_and_renames():
    diff = ("diff --git a/old.py b/new.py\nsimilarity index 90%\nrename from old.py\n"
            "rename to new.py\n--- a/old.py\n+++ b/new.py\n@@ -1 +1 @@\n-a\n+b\n")
    assert touched_paths(diff) == {"old.py", "new.py"}
