"""File formats between the host and an agent's ``predict`` command.

episodes file (npz, written by the host): ``n_groups`` and, for every group g,
``cx_g`` [E, n_ctx, 64] float32, ``cy_g`` [E, n_ctx] int64, ``qx_g`` [E, m, 64]
float32. All episodes of a group share n_ctx and m. There are no query labels.

logits file (npz, written by the agent): ``logits_g`` [E, m, 10] float32 for
every group g (higher = more likely; any real scale). The host masks each
episode's logits to the labels present in its context and takes the argmax.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

N_LABELS = 10


def load_episodes(path: str | Path) -> list[dict[str, np.ndarray]]:
    """The groups of an episodes file as dicts with cx, cy, qx."""
    with np.load(path, allow_pickle=False) as f:
        return [{k: f[f"{k}_{g}"] for k in ("cx", "cy", "qx")} for g in range(int(f["n_groups"]))]


def save_episodes(path: str | Path, groups: list[dict[str, np.ndarray]]) -> None:
    arrays: dict[str, np.ndarray] = {"n_groups": np.asarray(len(groups))}
    for g, grp in enumerate(groups):
        arrays[f"cx_{g}"] = np.asarray(grp["cx"], dtype=np.float32)
        arrays[f"cy_{g}"] = np.asarray(grp["cy"], dtype=np.int64)
        arrays[f"qx_{g}"] = np.asarray(grp["qx"], dtype=np.float32)
    np.savez(path, **arrays)


def save_logits(path: str | Path, logits: list[np.ndarray]) -> None:
    """Write one [E, m, 10] array per group, in the episodes file's order."""
    np.savez(path, **{f"logits_{g}": np.asarray(a, dtype=np.float32) for g, a in enumerate(logits)})
