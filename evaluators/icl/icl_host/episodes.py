"""Meta-test episodes: every task has its own fixed seed, so every agent sees the same tasks.

A *cell* is (pool, n_ctx); its task i is generated from
``default_rng([*salt, task_seed, crc32(pool), n_ctx, n_query, i])``. ``salt``
is the host's secret (one per archive, see secret.py): it never enters a
sandbox, so nothing an agent can see (the public code, the task seed, the
pools' class counts) determines a query label, while every agent of one
archive still gets the same tasks. The query labels stay in these host-side
objects; only ``cx``, ``cy`` and ``qx`` are ever written for a sandbox.
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


def salt_words(salt: str | None) -> list[int]:
    """The secret salt (hex) as 32-bit words for a seed sequence; [] when there is none."""
    if not salt:
        return []
    v = int(salt, 16)
    return [(v >> (32 * k)) & 0xFFFFFFFF for k in range((len(salt) * 4 + 31) // 32)] + [0x5A17]


def task_rng(task_seed: int, pool: str, n_ctx: int, n_query: int, i: int,
             salt: str | None = None) -> np.random.Generator:
    return np.random.default_rng([*salt_words(salt), task_seed, zlib.crc32(pool.encode()), n_ctx,
                                  n_query, i])


def _stack(parts: list[Tasks]) -> Tasks:
    return Tasks(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("cx", "cy", "qx", "qy")))


def cell(pool: Pool, n_ctx: int, n_query: int, n_tasks: int, task_seed: int,
         subset: bool = False, start: int = 0, name: str | None = None,
         salt: str | None = None) -> Group:
    """Tasks ``start .. start+n_tasks-1`` of the cell (pool, n_ctx); ``name`` renames the group."""
    parts = []
    for i in range(start, start + n_tasks):
        rng = task_rng(task_seed, pool.name, n_ctx, n_query, i, salt)
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


def seen_cell(pool: Pool, n_ctx: int, n_query: int, n_fixed: int, task_seed: int,
              salt: str | None = None) -> Group:
    """The sampler's fixed tasks 0..n_fixed-1 (same projection and permutation), fresh samples."""
    parts = []
    for i in range(n_fixed):
        st: Structure = fixed_structure(np.array([i]), pool.n_cls, pool.dim)
        rng = task_rng(task_seed, pool.name + "#seen", n_ctx, n_query, i, salt)
        parts.append(make_tasks(pool, st, rng, n_ctx, n_query))
    ids = [f"diag/seen/{i:03d}" for i in range(n_fixed)]
    return Group("diag/seen", pool.name, n_ctx, _stack(parts), ids)


def shuffled(group: Group, seed: int, salt: str | None = None) -> Group:
    """The control: the same episodes with each context's labels shuffled among its samples."""
    rng = np.random.default_rng([*salt_words(salt), seed, 0x5EED])
    cy = np.stack([rng.permutation(row) for row in group.tasks.cy])
    t = Tasks(group.tasks.cx, cy, group.tasks.qx, group.tasks.qy)
    return Group("diag/shuffled", group.pool, group.n_ctx, t,
                 [f"diag/shuffled/{i:03d}" for i in range(len(group))])
