"""The open-ceiling score on hand-made predictions: perfect, chance, matching and beating logreg."""

import numpy as np
import pytest

from icl_harness.taskgen import Tasks
from icl_host import baselines, episodes, pools, report
from icl_host.scoring import accuracy, mean_se, task_score


def _onehot(labels: np.ndarray) -> np.ndarray:
    out = np.zeros(labels.shape + (10,))
    np.put_along_axis(out, labels[..., None], 1.0, axis=-1)
    return out


@pytest.fixture(scope="module")
def group():
    return episodes.cell(pools.load_pool("digits_heldout"), 25, 30, 12, task_seed=3, salt="ab" * 16)


@pytest.fixture(scope="module")
def base(group):
    return baselines.for_group(group, None)


def test_perfect_predictions_score_one(group, base):
    acc = accuracy(group, _onehot(group.tasks.qy)).acc
    # 10-way tasks with 25 examples: a query whose label is absent from the context cannot be right
    assert np.allclose(acc, base["ceiling"]) and base["ceiling"].min() < 1.0
    assert np.allclose(task_score(acc, base["chance"], base["ceiling"]), 1.0)


def test_chance_is_zero_and_below_chance_is_negative():
    # two labels, each half the context and half the queries: chance is exactly 0.5
    cy = np.array([[0, 1] * 5])
    qy = np.array([[0, 1] * 4])
    t = Tasks(np.zeros((1, 10, 64), np.float32), cy, np.zeros((1, 8, 64), np.float32), qy)
    chance = baselines.chance(t)
    assert chance[0] == pytest.approx(0.5)
    g = episodes.Group("hand/ctx10", "hand", 10, t, ["hand/ctx10/000"])
    half = accuracy(g, _onehot(np.array([[0] * 8]))).acc   # always label 0: right on half
    assert half[0] == 0.5 and task_score(half, chance)[0] == pytest.approx(0.0)
    wrong = accuracy(g, _onehot(1 - qy)).acc
    assert task_score(wrong, chance)[0] == pytest.approx(-1.0)
    # a one-label context says nothing about learning: 0, not a division by zero
    assert task_score(np.array([1.0]), np.array([1.0]))[0] == 0.0


def test_matching_logreg_scores_like_logreg_and_beating_it_scores_more(group, base):
    from sklearn.linear_model import LogisticRegression
    t = group.tasks
    preds = np.stack([LogisticRegression(C=1.0, max_iter=500).fit(t.cx[b], t.cy[b]).predict(t.qx[b])
                      for b in range(len(t.cy))])
    acc = accuracy(group, _onehot(preds)).acc
    assert np.allclose(acc, base["logreg"])  # the same learner, the same accuracy per task
    ref = task_score(base["logreg"], base["chance"], base["ceiling"])
    assert np.allclose(task_score(acc, base["chance"], base["ceiling"]), ref)
    # better than logreg: its predictions, plus the right answer on the first wrong query of each task
    better = preds.copy()
    for b in range(len(better)):
        wrong = np.flatnonzero(better[b] != t.qy[b])
        if wrong.size:
            better[b, wrong[0]] = t.qy[b, wrong[0]]
    s_better = task_score(accuracy(group, _onehot(better)).acc, base["chance"], base["ceiling"])
    assert s_better.mean() > ref.mean() + 0.01  # no ceiling at logreg: beating it earns more
    assert ref.mean() < 0.95                    # and logreg is far from the ceiling of 1
    cmp = report.compare([group], {group.name: base}, {group.name: s_better})
    assert cmp["vs_logreg"]["beats"] and "logreg" in cmp["pools"]["digits_heldout"]["beats"]
    assert set(cmp["references"]) == {"chance", "nn1", "centroid", "lda", "logreg"}
    assert cmp["references"]["logreg"]["score"] == pytest.approx(ref.mean())
    assert (cmp["score"], cmp["se"]) == pytest.approx(mean_se(s_better))
