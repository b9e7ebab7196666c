"""The meta-training task sampler an agent gets: tasks over the training pool only.

    from icl_harness import TaskSampler
    sampler = TaskSampler.load(args.train_pool)       # the file the host wrote
    rng = np.random.default_rng(args.seed)
    t = sampler.sample(rng, batch=32, n_ctx=50, n_query=20, n_classes=(2, 10))
    t.cx [32, 50, 64] float32, t.cy [32, 50] int64, t.qx [32, 20, 64], t.qy [32, 20]

``task_ids`` instead of fresh tasks cycles over a finite set of fixed tasks
(fixed projection and label permutation per id, over all classes, fresh
samples every call): the axis along which GPICL moves from memorisation to
general in-context learning. The host's ``seen_tasks`` diagnostic evaluates
fixed tasks 0..15.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .meter import METER
from .taskgen import Pool, Tasks, fixed_structure, make_tasks, sample_tasks


class TaskSampler:
    """Draws meta-training tasks from one pool; deterministic given the rng passed in."""

    def __init__(self, pool: Pool):
        self.pool = pool
        self._fixed: dict[int, object] = {}

    @classmethod
    def load(cls, path: str | Path) -> "TaskSampler":
        """Read the training pool file (npz with ``x`` [N, d] float32, ``y`` [N] int64, ``name``)."""
        with np.load(path, allow_pickle=False) as f:
            name = str(f["name"]) if "name" in f.files else Path(path).stem
            return cls(Pool(f["x"], f["y"], name=name))

    @property
    def n_classes(self) -> int:
        return self.pool.n_cls

    def sample(self, rng: np.random.Generator, batch: int, n_ctx: int, n_query: int,
               n_classes: int | tuple[int, int] | None = None,
               task_ids: np.ndarray | list[int] | None = None) -> Tasks:
        """``batch`` tasks with ``n_ctx`` context and ``n_query`` query samples each."""
        METER.drew(batch, batch * (n_ctx + n_query))
        if task_ids is None:
            return sample_tasks(self.pool, rng, batch, n_ctx, n_query, n_classes)
        ids = np.asarray(task_ids, dtype=np.int64)
        st = fixed_structure(ids, self.pool.n_cls, self.pool.dim)
        return make_tasks(self.pool, st, rng, n_ctx, n_query)
