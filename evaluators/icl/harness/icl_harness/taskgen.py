"""Task generation, shared by the host (meta-test episodes) and the sandbox (meta-training).

A task draws ``n_ctx + n_query`` samples from a pool (optionally from a random
subset of its classes), projects the inputs with a random matrix
``A ∈ R^{d×64}``, ``A_ij ~ N(0, 1/d)``, maps the classes into 10 label slots
with a random permutation, and z-scores every feature with the context's
statistics only. Because the projection and the labels change per task, only
in-context learning can score above chance on unseen tasks.

Pure numpy; every draw comes from the ``numpy.random.Generator`` passed in, in
a fixed order, so the same generator state gives the same tasks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_SLOTS = 10   # label slots every task's classes are permuted into
PROJ_DIM = 64  # the width every task's inputs are projected to
FIXED_TASK_SALT = 0x1C1  # seeds the structures of the sampler's fixed tasks


@dataclass
class Tasks:
    """A batch of B tasks: context (cx, cy) and queries (qx, qy)."""

    cx: np.ndarray  # [B, n_ctx, 64] float32
    cy: np.ndarray  # [B, n_ctx] int64 in [0, 10)
    qx: np.ndarray  # [B, n_query, 64] float32
    qy: np.ndarray  # [B, n_query] int64 in [0, 10)


@dataclass
class Structure:
    """What makes a task a task: its class subset, projection and label permutation."""

    order: np.ndarray  # [B, C] class ids; the first k[b] are task b's classes
    k: np.ndarray      # [B] number of classes in each task
    proj: np.ndarray   # [B, d, 64] float32
    perm: np.ndarray   # [B, 10] class id -> label slot


def draw_structure(rng: np.random.Generator, batch: int, n_cls: int, dim: int,
                   n_classes: int | tuple[int, int] | None = None) -> Structure:
    """Random class subsets, projections and permutations for ``batch`` tasks.

    ``n_classes``: None = all of the pool's classes; an int = that many; a
    (lo, hi) pair = uniform in [lo, hi] (clipped to the pool's classes).
    """
    if n_cls > N_SLOTS:
        raise ValueError(f"a pool with {n_cls} classes does not fit {N_SLOTS} label slots")
    if n_classes is None:
        k = np.full(batch, n_cls, dtype=np.int64)
    else:
        lo, hi = (n_classes, n_classes) if isinstance(n_classes, int) else n_classes
        lo, hi = max(1, min(lo, n_cls)), max(1, min(hi, n_cls))
        if lo > hi:
            raise ValueError(f"n_classes range {n_classes} is empty")
        k = rng.integers(lo, hi + 1, size=batch)
    order = np.argsort(rng.random((batch, n_cls)), axis=1)
    proj = (rng.standard_normal((batch, dim, PROJ_DIM)) / np.sqrt(dim)).astype(np.float32)
    perm = np.argsort(rng.random((batch, N_SLOTS)), axis=1)
    return Structure(order=order, k=k, proj=proj, perm=perm)


def fixed_structure(task_ids: np.ndarray, n_cls: int, dim: int) -> Structure:
    """The structures of fixed tasks ``task_ids`` (all classes), the same on every call."""
    parts = [draw_structure(np.random.default_rng([FIXED_TASK_SALT, int(t), n_cls, dim]),
                            1, n_cls, dim) for t in task_ids]
    return Structure(order=np.concatenate([p.order for p in parts]),
                     k=np.concatenate([p.k for p in parts]),
                     proj=np.concatenate([p.proj for p in parts]),
                     perm=np.concatenate([p.perm for p in parts]))


class Pool:
    """A labelled pool of standardized inputs, indexed by class for fast sampling."""

    def __init__(self, x: np.ndarray, y: np.ndarray, name: str = "pool"):
        x = np.ascontiguousarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.int64)
        if x.ndim != 2 or y.shape != (x.shape[0],):
            raise ValueError(f"pool {name}: want x [N, d] and y [N], got {x.shape} and {y.shape}")
        if y.min() < 0:
            raise ValueError(f"pool {name}: negative labels")
        self.x, self.y, self.name = x, y, name
        self.n_cls = int(y.max()) + 1
        self.dim = x.shape[1]
        self.by_class = np.argsort(y, kind="stable")
        self.counts = np.bincount(y, minlength=self.n_cls)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])

    def __len__(self) -> int:
        return len(self.y)

    def draw_indices(self, rng: np.random.Generator, st: Structure, n: int) -> np.ndarray:
        """``n`` distinct sample indices per task, from that task's classes, in random order."""
        batch = len(st.k)
        cols = np.arange(self.n_cls)[None, :]
        sel_counts = np.where(cols < st.k[:, None], self.counts[st.order], 0)  # [B, C]
        cum = np.cumsum(sel_counts, axis=1)
        total = cum[:, -1]
        if (total < n).any():
            raise ValueError(f"pool {self.name}: a task needs {n} samples but its classes "
                             f"hold only {int(total.min())}")
        pos = np.floor(rng.random((batch, n)) * total[:, None]).astype(np.int64)
        srt = np.sort(pos, axis=1)
        for b in np.flatnonzero((srt[:, 1:] == srt[:, :-1]).any(axis=1)):
            pos[b] = rng.choice(total[b], size=n, replace=False)  # exact, for the rare clash
        col = (pos[:, :, None] >= cum[:, None, :]).sum(axis=2)  # which selected class
        rows = np.arange(batch)[:, None]
        cls = st.order[rows, col]
        offset = pos - (cum - sel_counts)[rows, col]
        return self.by_class[self.starts[cls] + offset]


def make_tasks(pool: Pool, st: Structure, rng: np.random.Generator,
               n_ctx: int, n_query: int) -> Tasks:
    """Sample the tasks described by ``st`` from ``pool``."""
    idx = pool.draw_indices(rng, st, n_ctx + n_query)
    x = np.matmul(pool.x[idx], st.proj)  # [B, n, 64]
    y = np.take_along_axis(st.perm, pool.y[idx], axis=1)
    ctx = x[:, :n_ctx]
    mu = ctx.mean(axis=1, keepdims=True)
    sd = ctx.std(axis=1, keepdims=True)
    sd = np.where(sd < 1e-6, np.float32(1.0), sd)
    x = ((x - mu) / sd).astype(np.float32)
    return Tasks(cx=x[:, :n_ctx], cy=y[:, :n_ctx], qx=x[:, n_ctx:], qy=y[:, n_ctx:])


def sample_tasks(pool: Pool, rng: np.random.Generator, batch: int, n_ctx: int, n_query: int,
                 n_classes: int | tuple[int, int] | None = None) -> Tasks:
    """Fresh random tasks: a new structure per task, then its samples."""
    st = draw_structure(rng, batch, pool.n_cls, pool.dim, n_classes)
    return make_tasks(pool, st, rng, n_ctx, n_query)
