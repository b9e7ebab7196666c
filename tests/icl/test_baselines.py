"""Baselines on hand-made tasks where the right answer is known, and their cache."""

import numpy as np

from icl_harness.taskgen import Tasks
from icl_host import baselines, episodes, pools


def _task(cx, cy, qx, qy):
    f = lambda a, t: np.asarray(a, dtype=t)[None]  # noqa: E731
    return Tasks(f(cx, np.float32), f(cy, np.int64), f(qx, np.float32), f(qy, np.int64))


def test_chance_and_majority():
    t = _task([[0.0], [1.0], [2.0], [3.0]], [4, 4, 4, 7], [[0.0], [0.0], [0.0]], [4, 7, 9])
    # labels 4 and 7 are present: 1/2 for the first two queries, 0 for the absent label 9
    assert np.isclose(baselines.chance(t)[0], (0.5 + 0.5 + 0) / 3)
    assert np.isclose(baselines.majority(t)[0], 1 / 3)


def test_neighbours_and_centroid_on_separable_data():
    cx = [[0, 0], [0, 1], [10, 10], [10, 11], [20, 0], [21, 0]]
    cy = [3, 3, 8, 8, 1, 1]
    qx = [[0.2, 0.4], [10.1, 10.6], [20.4, 0.1]]
    t = _task(cx, cy, qx, [3, 8, 1])
    res = baselines.compute(t)
    for name in ("nn1", "knn5", "centroid", "logreg"):
        assert res[name][0] == 1.0, name


def test_weighted_knn_differs_from_majority_vote():
    # 3 far points of label 1 against 2 very close points of label 2: distance weighting wins
    t = _task([[0.0], [0.01], [5.0], [5.1], [5.2]], [2, 2, 1, 1, 1], [[0.005]], [2])
    assert baselines.knn_weighted(t)[0] == 1.0


def test_single_class_context_logreg():
    t = _task([[0.0], [1.0]], [5, 5], [[0.5], [3.0]], [5, 2])
    assert baselines.logreg(t)[0] == 0.5


def test_cache_is_used_and_keyed_by_content(tmp_path, monkeypatch):
    pool = pools.load_pool("wine")
    g = episodes.cell(pool, 10, 20, 5, task_seed=0)
    first = baselines.for_group(g, tmp_path)
    assert len(list((tmp_path / "baselines").iterdir())) == 1
    monkeypatch.setattr(baselines, "compute", lambda t: (_ for _ in ()).throw(AssertionError("recomputed")))
    again = baselines.for_group(g, tmp_path)
    assert all(np.array_equal(first[k], again[k]) for k in baselines.BASELINES)
    other = episodes.cell(pool, 10, 20, 5, task_seed=1)  # other content: a miss, computes
    monkeypatch.undo()
    baselines.for_group(other, tmp_path)
    assert len(list((tmp_path / "baselines").iterdir())) == 2


def test_cell_baselines_are_sensible():
    pool = pools.load_pool("digits_heldout")
    g = episodes.cell(pool, 50, 50, 20, task_seed=0)
    r = {k: v.mean() for k, v in baselines.compute(g.tasks).items()}
    assert 0.07 < r["chance"] < 0.13
    assert r["nn1"] > 0.6 and r["logreg"] > 0.6 and r["centroid"] > 0.6


def test_parallel_logreg_matches_serial(monkeypatch):
    g = episodes.cell(pools.load_pool("iris"), 10, 20, 12, task_seed=0)
    serial = baselines.logreg(g.tasks)
    monkeypatch.setenv("DGM_ICL_WORKERS", "2")
    assert np.array_equal(baselines.logreg(g.tasks), serial)
