"""dgm/archive/gitstore.py: git plumbing with private temporary indexes, against real git."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile

import pytest

from dgm.archive.gitstore import GitError, GitStore

from archive_helpers import SEED_FILES, edit, read_tree, write_tree


@pytest.fixture
def store(tmp_path):
    return GitStore.init(tmp_path / "repo.git")


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Point tempfile at a directory of our own so leftovers can be counted."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def test_init_is_bare_and_configured(store):
    assert store.is_repo()
    assert store.git("rev-parse", "--is-bare-repository").strip() == b"true"
    assert store.git("config", "gc.auto").strip() == b"0"


def test_commit_directory_skips_build_outputs(store, tmp_path, private_tmp):
    src = write_tree(tmp_path / "src", {**SEED_FILES, "__pycache__/m.cpython-311.pyc": "x",
                                        "tools/old.pyc": "x", ".pytest_cache/v": "x",
                                        "pkg.egg-info/PKG-INFO": "x"})
    before = read_tree(src)
    commit, tree = store.commit_directory(src, "seed")
    assert sorted(store.files(commit)) == sorted(SEED_FILES)
    assert store.tree_of(commit) == tree
    # The source directory is read, never written; the bare repo gets no index
    assert read_tree(src) == before and not (src / ".git").exists()
    assert not (store.path / "index").exists()
    assert list(private_tmp.iterdir()) == []


def test_apply_diff_uses_a_private_index_and_writes_no_files(store, tmp_path, make_diff,
                                                             private_tmp):
    commit, _ = store.commit_directory(write_tree(tmp_path / "src", SEED_FILES), "seed")
    new = edit(SEED_FILES, "tools/util.py", "def add(a, b):\n    return b + a\n")
    new["tools/new.py"] = "N = 1\n"
    del new["README.md"]
    tree = store.apply_diff(commit, make_diff(SEED_FILES, new))
    child = store.commit_tree(tree, commit, "child")
    assert store.commit_parents([child]) == {child: [commit]}
    assert {p: store.read_file(child, p).decode() for p in store.files(child)} == new
    assert not (store.path / "index").exists()
    assert list(private_tmp.iterdir()) == []  # the temporary index is gone too


def test_apply_diff_failure_carries_gits_reason(store, tmp_path, make_diff, private_tmp):
    commit, _ = store.commit_directory(write_tree(tmp_path / "src", SEED_FILES), "seed")
    stale = make_diff(edit(SEED_FILES, "main.py", "something else\n"),
                      edit(SEED_FILES, "main.py", "changed\n"))
    with pytest.raises(GitError) as exc:
        store.apply_diff(commit, stale)
    assert "main.py" in exc.value.stderr
    assert list(private_tmp.iterdir()) == []


def test_apply_diff_accepts_a_missing_final_newline(store, tmp_path, make_diff):
    commit, _ = store.commit_directory(write_tree(tmp_path / "src", SEED_FILES), "seed")
    new = edit(SEED_FILES, "README.md", "toy agent v2\n")
    tree = store.apply_diff(commit, make_diff(SEED_FILES, new).rstrip("\n"))
    assert store.read_file(store.commit_tree(tree, commit, "c"), "README.md") == b"toy agent v2\n"


def test_materialize_keeps_modes_and_contents(store, tmp_path):
    files = {**SEED_FILES, "empty.txt": "", "big/data.txt": "x" * 300_000 + "\n"}
    src = write_tree(tmp_path / "src", files)
    os.chmod(src / "main.py", 0o755)
    commit, _ = store.commit_directory(src, "seed")
    dest = store.materialize(commit, tmp_path / "out" / "agent")
    assert read_tree(dest) == files
    assert os.stat(dest / "main.py").st_mode & stat.S_IXUSR
    assert not os.stat(dest / "README.md").st_mode & stat.S_IXUSR


def test_refs_and_parents(store, tmp_path):
    c1, _ = store.commit_directory(write_tree(tmp_path / "a", {"f": "1\n"}), "one")
    c2, _ = store.commit_directory(write_tree(tmp_path / "b", {"f": "2\n"}), "two")
    c3 = store.commit_tree(store.tree_of(c2), c1, "three")
    for i, c in enumerate((c1, c2, c3), 1):
        store.set_ref(f"00000{i}", c)
    assert store.refs() == {"000001": c1, "000002": c2, "000003": c3}
    assert store.commit_parents([c3, c1]) == {c3: [c1], c1: []}
    assert store.existing_commits([c1, "0" * 40, store.tree_of(c1)]) == {c1}
    assert store.has_commit(c3) and not store.has_commit("f" * 40)
    # A ref written by us is a real git ref: plain git sees it
    out = subprocess.run(["git", f"--git-dir={store.path}", "log", "--format=%s",
                          "refs/dgm/agents/000003"], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["three", "one"]


def test_diff_of_a_root_is_its_whole_tree(store, tmp_path):
    c1, _ = store.commit_directory(write_tree(tmp_path / "a", {"f": "1\n", "g": "x\n"}), "one")
    text = store.diff(None, c1)
    assert "+++ b/f" in text and "+++ b/g" in text and "new file mode" in text


def test_set_ref_refuses_a_non_commit_id(store):
    for bad in ("HEAD", "abc", "g" * 40, "A" * 40):
        with pytest.raises(ValueError):
            store.set_ref("000001", bad)
    assert store.refs() == {}


def test_materialize_keeps_an_internal_symlink(store, tmp_path):
    src = write_tree(tmp_path / "src", SEED_FILES)
    os.symlink("tools/util.py", src / "util_link.py")
    os.symlink("../README.md", src / "tools" / "readme_link")
    commit, _ = store.commit_directory(src, "seed")
    dest = store.materialize(commit, tmp_path / "out")
    assert os.readlink(dest / "util_link.py") == "tools/util.py"
    assert (dest / "tools" / "readme_link").read_text() == SEED_FILES["README.md"]


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "a/../../x"])
def test_materialize_refuses_a_symlink_out_of_the_agent(store, tmp_path, target):
    """Diffs cannot add symlinks, but a tree written by other means must not escape either."""
    blob = store.git("hash-object", "-w", "--stdin", input=target.encode()).decode().strip()
    ok = store.git("hash-object", "-w", "--stdin", input=b"fine\n").decode().strip()
    tree = store.git("mktree", input=f"100644 blob {ok}\tok.txt\n120000 blob {blob}\tevil\n"
                     .encode()).decode().strip()
    commit = store.commit_tree(tree, None, "crafted")
    with pytest.raises(ValueError, match="link out of the agent"):
        store.materialize(commit, tmp_path / "out")
    assert not os.path.lexists(tmp_path / "out" / "evil")


def test_materialize_does_not_write_through_a_symlink_in_dest(store, tmp_path):
    commit, _ = store.commit_directory(write_tree(tmp_path / "src", SEED_FILES), "seed")
    dest = tmp_path / "out"
    dest.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    os.symlink(victim, dest / "README.md")
    with pytest.raises(OSError):
        store.materialize(commit, dest)
    assert victim.read_text() == "keep me"
