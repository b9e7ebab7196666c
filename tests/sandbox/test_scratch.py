"""Writable mounts go through quota'd slots: copied in, limited, mirrored back safely."""

from __future__ import annotations

import os
import stat

import pytest

from dgm.sandbox.scratch import Slot, mirror, stale_slots

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="tmpfs slots need root")


@root_only
def test_slot_is_a_size_limited_tmpfs(tmp_path):
    slot = Slot(4, (1000, 1000))
    try:
        assert slot.quota
        st = os.stat(slot.path)
        assert (st.st_uid, st.st_gid) == (1000, 1000)
        with pytest.raises(OSError) as e:
            with open(slot.path / "big", "wb") as f:
                for _ in range(8):
                    f.write(b"\0" * (1 << 20))
                    f.flush()
        assert e.value.errno == 28  # ENOSPC
        assert str(slot.path) in [line.split()[1] for line in open("/proc/self/mounts")]
    finally:
        slot.close()
    assert not slot.path.exists()
    assert str(slot.path) not in open("/proc/self/mounts").read()


def test_fill_and_drain_mirror_changes(tmp_path):
    src = tmp_path / "src"
    (src / "keep").mkdir(parents=True)
    (src / "keep" / "a.txt").write_text("a")
    (src / "gone.txt").write_text("old")
    slot = Slot(16, (os.geteuid(), os.getegid()))
    try:
        slot.fill(src)
        assert (slot.path / "keep" / "a.txt").read_text() == "a"
        (slot.path / "gone.txt").unlink()
        (slot.path / "new.txt").write_text("new")
        slot.drain(src)
    finally:
        slot.close()
    assert sorted(p.name for p in src.iterdir()) == ["keep", "new.txt"]
    assert (src / "keep" / "a.txt").read_text() == "a"


def test_copy_keeps_links_as_links_and_drops_special_files(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    target = tmp_path / "outside.txt"
    target.write_text("host file")
    os.symlink(target, src / "link")
    os.mkfifo(src / "fifo")
    (src / "suid").write_text("x")
    os.chmod(src / "suid", 0o6755)
    mirror(src, dst)
    assert os.readlink(dst / "link") == str(target)
    assert not (dst / "fifo").exists()
    assert stat.S_IMODE((dst / "suid").stat().st_mode) == 0o755
    assert target.read_text() == "host file"


def test_stale_slots_ignore_live_processes():
    slot = Slot(4, (os.geteuid(), os.getegid()))
    try:
        assert slot.path not in stale_slots()
    finally:
        slot.close()


def test_drain_rewrites_only_what_changed(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("same.txt", "edited.txt"):
        (src / name).write_text("original")
    (src / "dir").mkdir()
    os.symlink("same.txt", src / "dir-link")
    slot = Slot(16, (os.geteuid(), os.getegid()))
    try:
        slot.fill(src)
        before = (src / "same.txt").stat().st_ino
        (slot.path / "edited.txt").write_text("changed!")
        (slot.path / "dir").rmdir()
        (slot.path / "dir").write_text("now a file")          # a directory replaced by a file
        os.unlink(slot.path / "dir-link")
        os.mkdir(slot.path / "dir-link")                      # a link replaced by a directory
        slot.drain(src)
    finally:
        slot.close()
    assert (src / "same.txt").stat().st_ino == before        # untouched, not rewritten
    assert (src / "edited.txt").read_text() == "changed!"
    assert (src / "dir").read_text() == "now a file"
    assert (src / "dir-link").is_dir() and not (src / "dir-link").is_symlink()
