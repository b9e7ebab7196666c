"""The compute meter: FLOPs of an agent's torch work, counted the same way on any machine.

An agent wraps each training step (forward, backward, optimiser step) and each
prediction forward pass in ``METER.step(batch)``::

    from icl_harness import METER
    with METER.step(t):            # t: the Tasks batch of this step (or a key)
        loss = ...; loss.backward(); opt.step()

The first step of every distinct batch shape runs under
``torch.utils.flop_counter.FlopCounterMode`` and its count is kept; later steps
of the same shape add the kept count (FLOPs of these ops depend only on
shapes). The total is therefore deterministic and does not depend on machine
load. ``icl_harness.parse`` arranges for the ledger to be written, at exit, to
the ``--compute`` file the host names; the host compares it with the stage's
budget (``--flops-budget``, which the agent may read to size itself).

The meter also counts the batches the harness's ``TaskSampler`` hands out.
Batches drawn but never metered (beyond a prefetch allowance) are reported, and
the host refuses the run: training outside the meter is not free compute.

Trust: this runs inside the agent's process, so a hostile agent can bypass it
(train on arrays it reads itself, do work outside torch, vary the work behind
one shape). docs/icl.md ("Compute") lists what the host checks and what it
cannot; the wall-clock timeout stays as the safety net.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
from typing import Any, Iterator

PREFETCH_ALLOWANCE = 16  # drawn-but-unmetered batches tolerated (a prefetch queue's depth)


def _shape_key(batch: Any) -> tuple:
    if batch is None or isinstance(batch, (str, int, tuple)):
        return ("key", batch)
    shapes = []
    for name in ("cx", "cy", "qx", "qy"):
        a = getattr(batch, name, None)
        if a is not None:
            shapes.append(tuple(a.shape))
    if not shapes and hasattr(batch, "shape"):
        shapes.append(tuple(batch.shape))
    return ("shape", tuple(shapes))


class ComputeMeter:
    """FLOPs per phase ("train", "predict"), cached per (phase, shape key)."""

    def __init__(self) -> None:
        self.phase = "train"
        self.flops = 0
        self.steps = 0
        self.samples_drawn = 0
        self.batches_drawn = 0
        self.batches_metered = 0
        self.budget: float | None = None
        self._cache: dict[tuple, int] = {}
        self._path: str | None = None
        self._depth = 0

    # -- the host's side of the contract ---------------------------------
    def configure(self, phase: str, path: str | None, budget: float | None) -> None:
        """Called by ``icl_harness.parse``: where the ledger goes and the budget the agent has."""
        self.phase, self._path, self.budget = phase, path, budget
        if path:
            atexit.register(self.write)

    def write(self, path: str | None = None) -> None:
        path = path or self._path
        if not path:
            return
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            json.dump(self.ledger(), f)
        os.replace(tmp, path)

    def ledger(self) -> dict[str, Any]:
        return {"phase": self.phase, "flops": int(self.flops), "steps": self.steps,
                "batches_drawn": self.batches_drawn, "batches_metered": self.batches_metered,
                "samples_drawn": self.samples_drawn, "shapes": len(self._cache)}

    # -- the agent's side -------------------------------------------------
    @property
    def remaining(self) -> float:
        """FLOPs left under the budget (inf when the stage sets none)."""
        return math.inf if self.budget is None else self.budget - self.flops

    def cost(self, batch: Any) -> int | None:
        """The kept FLOP count of a step of this shape, or None if none ran yet."""
        return self._cache.get((self.phase, _shape_key(batch)))

    @contextlib.contextmanager
    def step(self, batch: Any = None) -> Iterator[None]:
        """Meter one step; ``batch`` (a Tasks batch, tensors with .shape, or a key) fixes its shape."""
        key = (self.phase, _shape_key(batch))
        if not self._depth:
            self.steps += 1
            self.batches_metered += 1
        if self._depth or key in self._cache:  # nested steps are counted by the outer one
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            if self._depth == 0:
                self.flops += self._cache[key]
            return
        from torch.utils.flop_counter import FlopCounterMode
        self._depth += 1
        try:
            with FlopCounterMode(display=False) as counter:
                yield
        finally:
            self._depth -= 1
        self._cache[key] = int(counter.get_total_flops())
        self.flops += self._cache[key]

    def drew(self, batch: int, samples: int) -> None:
        """Called by TaskSampler for every batch it hands out."""
        self.batches_drawn += 1
        self.samples_drawn += samples


METER = ComputeMeter()
