"""Deterministic task repositories and the small YAML subset."""

import os
import time

import pytest

from dgm_codingkit import gitrepo, miniyaml


def test_same_files_same_commit_anywhere(tmp_path):
    files = {"pkg/__init__.py": b"x = 1\n", "README.md": b"hi\n"}
    a = gitrepo.make_repo(files, tmp_path / "a")
    time.sleep(1.1)  # a different wall clock must not matter
    old = os.umask(0o077)
    try:
        b = gitrepo.make_repo(files, tmp_path / "deeper" / "b")
    finally:
        os.umask(old)
    assert a == b and len(a) == 40
    assert gitrepo.make_repo({**files, "README.md": b"hi!\n"}, tmp_path / "c") != a


def test_snapshot_leaves_out_debris(tmp_path):
    src = tmp_path / "src"
    (src / "pkg" / "__pycache__").mkdir(parents=True)
    (src / "pkg" / "mod.py").write_text("y = 2\n")
    (src / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    (src / "pkg" / "stale.pyc").write_bytes(b"\0")
    assert list(gitrepo.snapshot_files(src)) == ["pkg/mod.py"]


def test_refuses_a_non_empty_destination(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("")
    with pytest.raises(gitrepo.GitError):
        gitrepo.make_repo({"a": b""}, tmp_path / "d")


def test_snapshot_refuses_symlinks(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "link").symlink_to("/etc/passwd")
    with pytest.raises(gitrepo.GitError):
        gitrepo.snapshot_files(tmp_path / "s")


def test_miniyaml_round_trip_and_quoting():
    data = {"version": "1.0", "base_commit": "0123abc", "flag": "yes", "plain": "swe-mini",
            "image": "swebench/sweb.eval.x86_64.a_1776_b-1:latest", "datasets": ["swe-mini", "it's"]}
    text = miniyaml.dump(data)
    assert miniyaml.load(text) == data
    assert "version: '1.0'" in text and "flag: 'yes'" in text and "plain: swe-mini" in text


def test_miniyaml_agrees_with_pyyaml_where_available():
    yaml = pytest.importorskip("yaml")
    data = {"version": "0.3", "base_commit": "217e85e2646e97fd82bd24c587aefd988bbbf2b6",
            "n": "12", "x": "on", "datasets": ["a", "b c"], "empty": []}
    assert yaml.safe_load(miniyaml.dump(data)) == data


@pytest.mark.parametrize("bad", ["key: {a: 1}", "- orphan", "just text", "k: 'open", "a: 1\na: 2"])
def test_miniyaml_rejects_what_it_does_not_understand(bad):
    with pytest.raises(miniyaml.YamlSubsetError):
        miniyaml.load(bad)
