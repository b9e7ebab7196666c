"""The compute budget: checking the harness's ledger of one command against the stage's budget.

The ledger (``icl_harness.meter``) counts FLOPs of every metered step with
``torch.utils.flop_counter``, once per batch shape, so the figure is the same
on an idle or a loaded machine. The host refuses a command that

- wrote no ledger (it did not use ``icl_harness.parse``, or died before exit);
- drew batches from the harness's sampler outside metered steps (beyond a
  prefetch allowance): that is training the meter did not see;
- spent more FLOPs than the stage's budget.

What the host cannot check (docs/icl.md, "Compute"): work outside torch
(numpy, scikit-learn), training on arrays read without the sampler, or work
that varies behind one batch shape. The wall-clock timeout stays as the net.
"""

from __future__ import annotations

import math
from typing import Any

PREFETCH_ALLOWANCE = 16  # must match icl_harness.meter.PREFETCH_ALLOWANCE


def _num(ledger: dict, key: str) -> float | None:
    v = ledger.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        return None
    return float(v)


def check(ledger: dict[str, Any] | None, what: str, budget: float | None) -> tuple[float, str | None]:
    """(FLOPs spent, None) or (FLOPs, the one-line reason the command is refused)."""
    if ledger is None:
        return 0.0, (f"{what} wrote no compute ledger: agents must parse their arguments with "
                     "icl_harness.parse and meter torch work with icl_harness.METER.step")
    flops = _num(ledger, "flops")
    drawn, metered = _num(ledger, "batches_drawn"), _num(ledger, "batches_metered")
    if flops is None or drawn is None or metered is None:
        return 0.0, f"{what}'s compute ledger is malformed (flops, batches_drawn, batches_metered)"
    if drawn - metered > PREFETCH_ALLOWANCE:
        return flops, (f"{what} drew {drawn:.0f} sampler batches but metered only {metered:.0f} "
                       "steps: training outside icl_harness.METER.step is not allowed")
    if budget is not None and flops > budget:
        return flops, (f"{what} used {flops / 1e12:.3f} TFLOP, over the stage's compute budget "
                       f"of {budget / 1e12:.3f} TFLOP")
    return flops, None
