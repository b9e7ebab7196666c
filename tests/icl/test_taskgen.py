"""The task generator and the sampler: the format every agent and baseline sees."""

import numpy as np
import pytest

from icl_harness import TaskSampler
from icl_harness.taskgen import (N_SLOTS, Pool, draw_structure, fixed_structure, make_tasks,
                                 sample_tasks)
from icl_host import episodes, pools


@pytest.fixture(scope="module")
def digits():
    return pools.load_pool("digits_train")


def test_shapes_and_context_zscore(digits):
    t = sample_tasks(digits, np.random.default_rng(0), 8, 30, 12)
    assert t.cx.shape == (8, 30, 64) and t.qx.shape == (8, 12, 64)
    assert t.cy.shape == (8, 30) and t.qy.shape == (8, 12)
    assert t.cx.dtype == np.float32 and t.cy.dtype == np.int64
    np.testing.assert_allclose(t.cx.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(t.cx.std(axis=1), 1, atol=1e-4)
    assert not np.allclose(t.qx.mean(axis=1), 0, atol=1e-3)  # queries use the context's statistics


def test_labels_are_permuted_per_task(digits):
    t = sample_tasks(digits, np.random.default_rng(1), 64, 60, 0)
    assert t.cy.min() >= 0 and t.cy.max() < N_SLOTS
    # the same original class lands in different slots across tasks
    first = [row[0] for row in t.cy]
    assert len(set(first)) > 3


def test_class_subsets_and_distinct_samples(digits):
    rng = np.random.default_rng(2)
    t = sample_tasks(digits, rng, 50, 40, 20, n_classes=(2, 4))
    for cy, qy in zip(t.cy, t.qy):
        assert 2 <= len(set(cy) | set(qy)) <= 4
    st = draw_structure(rng, 50, digits.n_cls, digits.dim, (2, 4))
    idx = digits.draw_indices(rng, st, 60)
    for row, order, k in zip(idx, st.order, st.k):
        assert len(set(row)) == 60  # no sample drawn twice within a task
        assert set(digits.y[row]) <= set(order[:k])


def test_small_pool_uses_exact_sampling():
    from sklearn.datasets import load_iris
    x, y = load_iris(return_X_y=True)
    pool = Pool(x, y, "iris")
    rng = np.random.default_rng(3)
    idx = pool.draw_indices(rng, draw_structure(rng, 5, 3, 4), 150)  # all 150 samples
    assert all(sorted(row) == list(range(150)) for row in idx)
    with pytest.raises(ValueError, match="hold only"):
        sample_tasks(pool, np.random.default_rng(3), 1, 100, 51)


def test_same_rng_same_tasks(digits):
    a = sample_tasks(digits, np.random.default_rng(7), 4, 10, 5, (2, 10))
    b = sample_tasks(digits, np.random.default_rng(7), 4, 10, 5, (2, 10))
    c = sample_tasks(digits, np.random.default_rng(8), 4, 10, 5, (2, 10))
    assert np.array_equal(a.cx, b.cx) and np.array_equal(a.qy, b.qy)
    assert not np.array_equal(a.cx, c.cx)


def test_fixed_tasks_keep_structure_change_samples(digits):
    s1 = fixed_structure(np.array([3, 5]), digits.n_cls, digits.dim)
    s2 = fixed_structure(np.array([3, 5]), digits.n_cls, digits.dim)
    assert np.array_equal(s1.proj, s2.proj) and np.array_equal(s1.perm, s2.perm)
    assert not np.array_equal(s1.proj[0], s1.proj[1])
    t1 = make_tasks(digits, s1, np.random.default_rng(0), 20, 5)
    t2 = make_tasks(digits, s2, np.random.default_rng(1), 20, 5)
    assert not np.array_equal(t1.cx, t2.cx)


def test_sampler_round_trip(tmp_path, digits):
    pools.write_train_pool("digits_train", tmp_path / "pool.npz")
    sampler = TaskSampler.load(tmp_path / "pool.npz")
    assert sampler.n_classes == 10 and len(sampler.pool) == len(digits)
    t = sampler.sample(np.random.default_rng(0), 3, 8, 4, task_ids=[0, 1, 0])
    assert t.cx.shape == (3, 8, 64)


def test_task_ids_are_stable_across_stage_sizes(digits):
    """Task 5 of a cell is the same episode whether a stage has 8 or 20 tasks."""
    small = episodes.cell(digits, 10, 7, 8, task_seed=0)
    large = episodes.cell(digits, 10, 7, 20, task_seed=0)
    assert small.task_ids[5] == large.task_ids[5] == "digits_train/ctx10/005"
    assert np.array_equal(small.tasks.cx[5], large.tasks.cx[5])
    assert np.array_equal(small.tasks.qy[:8], large.tasks.qy[:8])
    other = episodes.cell(digits, 10, 7, 8, task_seed=1)
    assert not np.array_equal(small.tasks.cx, other.tasks.cx)


def test_shuffled_control_keeps_inputs_changes_context_labels(digits):
    g = episodes.cell(digits, 30, 10, 6, task_seed=0)
    s = episodes.shuffled(g, 0)
    assert np.array_equal(g.tasks.cx, s.tasks.cx) and np.array_equal(g.tasks.qy, s.tasks.qy)
    assert not np.array_equal(g.tasks.cy, s.tasks.cy)
    assert all(sorted(a) == sorted(b) for a, b in zip(g.tasks.cy, s.tasks.cy))
