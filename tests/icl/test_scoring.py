"""Reading untrusted logits and turning them into accuracies and scores."""

import numpy as np
import pytest

from icl_harness import save_logits
from icl_host import episodes, pools
from icl_host.scoring import BadOutput, accuracy, read_logits


@pytest.fixture(scope="module")
def groups():
    pool = pools.load_pool("wine")
    return [episodes.cell(pool, 10, 8, 3, task_seed=0), episodes.cell(pool, 50, 8, 2, task_seed=0)]


def _ok(groups):
    return [np.zeros((len(g), 8, 10), np.float32) for g in groups]


def test_reads_well_formed_logits(tmp_path, groups):
    save_logits(tmp_path / "l.npz", _ok(groups))
    out = read_logits(tmp_path / "l.npz", groups)
    assert [a.shape for a in out] == [(3, 8, 10), (2, 8, 10)]


@pytest.mark.parametrize("case, match", [
    ("missing", "no logits file"), ("shape", "has shape"), ("group", "has no logits_1"),
    ("pickle", "cannot read"), ("huge", "far more than"), ("symlink", "symbolic link"),
    ("garbage", "cannot read"),
])
def test_rejects_bad_files(tmp_path, groups, case, match):
    path = tmp_path / "l.npz"
    if case == "shape":
        save_logits(path, [np.zeros((3, 8, 9)), np.zeros((2, 8, 10))])
    elif case == "group":
        save_logits(path, _ok(groups)[:1])
    elif case == "pickle":
        np.savez(path, logits_0=np.array([{"a": 1}], dtype=object), logits_1=np.zeros((2, 8, 10)))
    elif case == "huge":
        path.write_bytes(b"\0" * (3 << 20))
    elif case == "symlink":
        path.symlink_to("/etc/hostname")
    elif case == "garbage":
        path.write_bytes(b"not an npz")
    with pytest.raises(BadOutput, match=match):
        read_logits(path, groups)


def test_masking_to_context_labels(groups):
    g = groups[0]
    absent = [l for l in range(10) if l not in set(g.tasks.cy[0])][0]
    logits = np.zeros((3, 8, 10))
    logits[:, :, absent] = 100.0  # the biggest logit is on a label absent from the context
    logits[np.arange(3)[:, None], np.arange(8)[None, :], g.tasks.qy] = 1.0  # truth is second best
    ga = accuracy(g, logits)
    assert np.all(ga.acc[0] == 1.0) and ga.invalid[0] is None


def test_nan_voids_only_that_task(groups):
    g = groups[0]
    logits = np.zeros((3, 8, 10))
    logits[np.arange(3)[:, None], np.arange(8)[None, :], g.tasks.qy] = 1.0
    logits[1, 0, 0] = np.nan
    ga = accuracy(g, logits)
    assert list(ga.acc) == [1.0, 0.0, 1.0]
    assert ga.invalid[1] and "non-finite" in ga.invalid[1]
    logits[1, 0, 0] = -np.inf  # -inf is a legitimate "never this label"
    assert accuracy(g, logits).invalid[1] is None
