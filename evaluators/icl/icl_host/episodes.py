"""Meta-test episodes: every task has its own fixed seed, so every agent sees the same tasks.

A *cell* is (pool, n_ctx); its task i is generated from
``default_rng([task_seed, crc32(pool), n_ctx, n_query, i])``, so task ids mean
the same episode in every stage that contains them. The query labels stay in
these host-side objects; only ``cx``, ``cy`` and ``qx`` are ever written for a
sandbox.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from icl_harness.taskgen import (Pool, Structure, Tasks, draw_structure, fixed_structure,
                                 make_tasks)

SUBSET = (2, 10)


@dataclass
class Group:
    """Episodes sharing n_ctx and n_query: one array block in the episodes file."""

    name: str          # e.g. "digits_heldout/ctx50" or "diag/shuffled"
    pool: str
    n_ctx: int
    tasks: Tasks
    task_ids: list[str]

    def __len__(self) -> int:
        return len(self.task_ids)


def task_rng(task_seed: int, pool: str, n_ctx: int, n_query: int, i: int) -> np.random.Generator:
    return np.random.default_rng([task_seed, zlib.crc32(pool.encode()), n_ctx, n_query, i])


def _stack(parts: list[Tasks]) -> Tasks:
    return Tasks(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("cx", "cy", "qx", "qy")))


def cell(pool: Pool, n_ctx: int, n_query: int, n_tasks: int, task_seed: int,
         subset: bool = False, start: int = 0, name: str | None = None) -> Group:
    """Tasks ``start .. start+n_tasks-1`` of the cell (pool, n_ctx); ``name`` renames the group."""
    parts = []
    for i in range(start, start + n_tasks):
        rng = task_rng(task_seed, pool.name, n_ctx, n_query, i)
        st = draw_structure(rng, 1, pool.n_cls, pool.dim, SUBSET if subset else None)
        parts.append(make_tasks(pool, st, rng, n_ctx, n_query))
    name = name or f"{pool.name}/ctx{n_ctx}"
    ids = [f"{name}/{i:03d}" for i in range(start, start + n_tasks)]
    return Group(name, pool.name, n_ctx, _stack(parts), ids)


def head(group: Group, n: int) -> Group:
    """The first ``n`` episodes of a group."""
    t = group.tasks
    return Group(group.name, group.pool, group.n_ctx, Tasks(t.cx[:n], t.cy[:n], t.qx[:n], t.qy[:n]),
                 group.task_ids[:n])


def seen_cell(pool: Pool, n_ctx: int, n_query: int, n_fixed: int, task_seed: int) -> Group:
    """The sampler's fixed tasks 0..n_fixed-1 (same projection and permutation), fresh samples."""
    parts = []
    for i in range(n_fixed):
        st: Structure = fixed_structure(np.array([i]), pool.n_cls, pool.dim)
        rng = task_rng(task_seed, pool.name + "#seen", n_ctx, n_query, i)
        parts.append(make_tasks(pool, st, rng, n_ctx, n_query))
    ids = [f"diag/seen/{i:03d}" for i in range(n_fixed)]
    return Group("diag/seen", pool.name, n_ctx, _stack(parts), ids)


def shuffled(group: Group, seed: int) -> Group:
    """The control: the same episodes with each context's labels shuffled among its samples."""
    rng = np.random.default_rng([seed, 0x5EED])
    cy = np.stack([rng.permutation(row) for row in group.tasks.cy])
    t = Tasks(group.tasks.cx, cy, group.tasks.qx, group.tasks.qy)
    return Group("diag/shuffled", group.pool, group.n_ctx, t,
                 [f"diag/shuffled/{i:03d}" for i in range(len(group))])
