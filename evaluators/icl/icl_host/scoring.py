"""Turning an agent's logits file into per-task accuracies, and accuracies into scores.

The logits file is untrusted: its size is checked before it is read, it is
read without pickle, and every group must have exactly the expected shape.
NaN or +inf in a task's logits makes that task 0; a malformed file makes
every task 0. Logits are masked to the labels present in each context.

The score of one task is open-ended: ``(acc - chance) / (ceiling - chance)``,
where ``ceiling`` is the share of queries whose label occurs in the context (the
most any learner can get right; 1 when the context holds every class). 1 for a
perfect learner, 0 at chance (and for a broken agent), negative below chance;
no baseline caps it. Reference learners are scored the same way.
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


def task_score(acc: np.ndarray, chance: np.ndarray, ceiling: np.ndarray | float = 1.0) -> np.ndarray:
    """Per task ``(acc - chance) / (ceiling - chance)``: 1 = every answerable query right, 0 = chance.

    ``ceiling`` (baselines.ceiling) is the share of queries whose label is in the
    context. Not clipped at any baseline, so beating logistic regression earns
    more than matching it. A task where chance already reaches the ceiling (a
    one-label context) scores 0: it tells nothing about learning.
    """
    acc, chance = np.asarray(acc, dtype=np.float64), np.asarray(chance, dtype=np.float64)
    span = np.asarray(ceiling, dtype=np.float64) - chance
    return np.where(span > 1e-9, (acc - chance) / np.where(span > 1e-9, span, 1.0), 0.0)


def mean_se(x: np.ndarray) -> tuple[float, float]:
    """Mean and its standard error (sd / sqrt(n), ddof 1; 0 for a single value)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return 0.0, 0.0
    se = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0
    return float(x.mean()), se
