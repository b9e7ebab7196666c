"""Turning an agent's logits file into per-task accuracies, and accuracies into scores.

The logits file is untrusted: its size is checked before it is read, it is
read without pickle, and every group must have exactly the expected shape.
NaN or +inf in a task's logits makes that task 0; a malformed file makes
every task 0. Logits are masked to the labels present in each context.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dgm.sandbox import readback
from icl_harness.taskgen import N_SLOTS

from .baselines import present_mask
from .episodes import Group

MIN_SPAN = 0.05  # floor of (logreg - chance) when normalising one task


class BadOutput(Exception):
    """The agent's predictions cannot be scored at all (the message says why)."""


@dataclass
class GroupAccuracy:
    acc: np.ndarray            # [E] query accuracy per episode (0 where invalid)
    invalid: list[str | None]  # per episode: None or why it got 0


def expected_bytes(groups: list[Group]) -> int:
    return sum(len(g) * g.tasks.qy.shape[1] * N_SLOTS * 4 for g in groups)


def read_logits(path: Path, groups: list[Group], slack: float = 4.0) -> list[np.ndarray]:
    """Load and shape-check the logits file for ``groups``; BadOutput says what is wrong."""
    if path.is_symlink():
        raise BadOutput("the logits file is a symbolic link")
    try:
        fd, st = readback.open_file(path.parent, path.name)
        os.close(fd)
    except readback.Rejected:
        raise BadOutput(f"predict wrote no logits file ({path.name}), or not a regular file") from None
    want = expected_bytes(groups)
    cap = int(slack * want) + (1 << 20)
    if st.st_size > cap:
        raise BadOutput(f"logits file is {st.st_size / 1e6:.1f} MB, far more than the "
                        f"{want / 1e6:.2f} MB of float32 logits expected")
    try:  # no link followed; sizes checked after decompression, before any data is inflated
        arrays = readback.load_npz(path.parent, path.name, max_file_bytes=cap, max_total_bytes=cap,
                                   max_members=len(groups) + 8)
    except readback.Rejected as exc:
        raise BadOutput(f"cannot read logits file: {exc}") from None
    out = []
    for g, group in enumerate(groups):
        key = f"logits_{g}"
        if key not in arrays:
            raise BadOutput(f"logits file has no {key} (for {group.name}); it has {sorted(arrays)[:8]}")
        a = arrays[key]
        want_shape = (len(group), group.tasks.qy.shape[1], N_SLOTS)
        if a.shape != want_shape:
            raise BadOutput(f"{key} ({group.name}) has shape {a.shape}, expected {want_shape}")
        if not np.issubdtype(a.dtype, np.number):
            raise BadOutput(f"{key} has dtype {a.dtype}, expected floats")
        out.append(a.astype(np.float64))
    return out


def accuracy(group: Group, logits: np.ndarray) -> GroupAccuracy:
    """Masked-argmax query accuracy per episode; NaN or +inf logits void that episode."""
    bad = np.isnan(logits).any(axis=(1, 2)) | np.isposinf(logits).any(axis=(1, 2))
    present = present_mask(group.tasks.cy)
    masked = np.where(present[:, None, :], np.nan_to_num(logits, nan=0.0, posinf=0.0), -np.inf)
    acc = (masked.argmax(-1) == group.tasks.qy).mean(axis=1)
    acc = np.where(bad, 0.0, acc)
    return GroupAccuracy(acc, ["non-finite logits (NaN or +inf)" if b else None for b in bad])


def normalised(acc: np.ndarray, chance: np.ndarray, logreg: np.ndarray) -> np.ndarray:
    """(acc - chance) / (logreg - chance) per task, clipped to [0, 1]."""
    span = np.maximum(logreg - chance, MIN_SPAN)
    return np.clip((acc - chance) / span, 0.0, 1.0)


def cell_fitness(acc: float, chance: float, logreg: float) -> float:
    """The issue's unclipped fitness term for one (pool, n_ctx) cell."""
    return (acc - chance) / max(logreg - chance, MIN_SPAN)
