"""dgm.sandbox.readback against hostile files, no sandbox needed: each attack is refused
with a one-line reason, and the same content without the trick reads back as written."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

from dgm.sandbox import readback as rb


def test_no_link_is_followed_at_any_component(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f.txt").write_text("data")
    assert rb.read_bytes(tmp_path, "real/f.txt", 100) == (b"data", 4)  # control
    os.symlink("real", tmp_path / "dirlink")
    os.symlink("real/f.txt", tmp_path / "filelink")
    os.symlink("/etc/passwd", tmp_path / "real" / "abs")
    for rel in ("dirlink/f.txt", "filelink", "real/abs", "../etc/passwd", "/etc/passwd"):
        with pytest.raises(rb.Rejected):
            rb.read_bytes(tmp_path, rel, 100)
    assert rb.read_text(tmp_path, "dirlink/f.txt", 100) is None


def test_fifos_and_devices_are_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(rb.Rejected, match="not a regular file"):
        rb.read_bytes(tmp_path, "fifo", 100)  # O_NONBLOCK: would hang forever otherwise


def test_size_caps(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 1000)
    with pytest.raises(rb.Rejected, match="more than the 100"):
        rb.read_bytes(tmp_path, "big", 100)
    data, size = rb.read_bytes(tmp_path, "big", 100, tail=True, strict=False)
    assert (len(data), size) == (100, 1000)


def test_deep_json_is_rejected_not_a_recursion_error(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(rb.Rejected, match="nested deeper than 32"):
        rb.read_json(tmp_path, "deep.json", 1 << 20)
    (tmp_path / "ok.json").write_text(json.dumps({"a": [[["]]]]"]]], "b": "{{{{"}))  # brackets in strings
    assert rb.read_json(tmp_path, "ok.json", 1 << 20, max_depth=4)["b"] == "{{{{"


def _bomb(path, declared: int, real: int | None = None) -> None:
    header = {"descr": "<f4", "fortran_order": False, "shape": (declared // 4,)}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("a.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array_header_1_0(fh, header)
            left = declared if real is None else real
            while left > 0:
                fh.write(b"\0" * min(left, 1 << 20))
                left -= 1 << 20


def test_npz_members_are_sized_after_decompression(tmp_path):
    _bomb(tmp_path / "bomb.npz", 64 << 20)
    assert (tmp_path / "bomb.npz").stat().st_size < 200_000
    with pytest.raises(rb.Rejected, match="declares 67108864 bytes"):
        rb.load_npz(tmp_path, "bomb.npz", max_file_bytes=1 << 20, max_total_bytes=8 << 20)
    np.savez_compressed(tmp_path / "ok.npz", a=np.arange(1000, dtype=np.float32))  # control
    got = rb.load_npz(tmp_path, "ok.npz", max_file_bytes=1 << 20, max_total_bytes=8 << 20)
    assert np.array_equal(got["a"], np.arange(1000, dtype=np.float32))


def test_npz_lies_and_tricks(tmp_path):
    _bomb(tmp_path / "short.npz", 4 << 20, real=1 << 20)  # declares more than it holds
    with pytest.raises(rb.Rejected, match="truncated"):
        rb.load_npz(tmp_path, "short.npz", max_file_bytes=1 << 20, max_total_bytes=8 << 20)
    np.savez(tmp_path / "obj.npz", a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(rb.Rejected, match="not allowed"):
        rb.load_npz(tmp_path, "obj.npz", max_file_bytes=1 << 20, max_total_bytes=8 << 20)
    np.savez(tmp_path / "many.npz", **{f"a{i}": np.zeros(1) for i in range(50)})
    with pytest.raises(rb.Rejected, match="50 members"):
        rb.load_npz(tmp_path, "many.npz", max_file_bytes=1 << 20, max_total_bytes=8 << 20, max_members=10)
    np.savez(tmp_path / "sum.npz", a=np.zeros(1 << 18), b=np.zeros(1 << 18))  # 2 MiB each, 4 in all
    with pytest.raises(rb.Rejected, match="decompress to more than"):
        rb.load_npz(tmp_path, "sum.npz", max_file_bytes=8 << 20, max_total_bytes=3 << 20)


def test_sparse_files_count_at_apparent_size(tmp_path):
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    with open(src / "d" / "sparse", "wb") as fh:
        fh.truncate(1 << 30)
    (src / "small").write_bytes(b"x" * 10)
    os.symlink("/etc", src / "link")
    small = rb.file_cost(os.stat(src / "small"))  # 10 bytes, or the block they occupy
    assert 10 <= small <= 65536
    assert rb.tree_bytes(tmp_path, "src") == (1 << 30) + small
    with pytest.raises(rb.Rejected, match="apparent size"):
        rb.copy_tree(tmp_path, "src", tmp_path / "dst", max_bytes=64 << 20)
    assert not (tmp_path / "dst").exists()  # nothing written on failure
    os.unlink(src / "d" / "sparse")
    assert rb.copy_tree(tmp_path, "src", tmp_path / "dst", max_bytes=64 << 20) == small
    assert (tmp_path / "dst" / "small").read_bytes() == b"x" * 10
    assert sorted(p.name for p in (tmp_path / "dst").iterdir()) == ["d", "small"]  # link dropped


def test_scratch_drain_keeps_to_the_quota(tmp_path):
    from dgm.sandbox.scratch import Slot

    slot = Slot(8, (os.geteuid(), os.getegid()))
    try:
        with open(slot.path / "sparse", "wb") as fh:
            fh.truncate(64 << 20)
        (slot.path / "real").write_bytes(b"r" * 1000)
        dest = tmp_path / "dest"
        dest.mkdir()
        why = slot.drain(dest)
        assert "over the 8 MiB scratch quota" in why
        assert sorted(p.name for p in dest.iterdir()) == ["real"]
        os.unlink(slot.path / "sparse")
        assert slot.drain(dest) == ""  # control: within the quota nothing is left out
    finally:
        slot.close()
