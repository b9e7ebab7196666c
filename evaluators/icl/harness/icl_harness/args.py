"""The arguments the host appends to an agent's commands (see docs/icl.md).

meta-train: --train-pool FILE --checkpoint DIR --seed N --device cpu|cuda
            --threads N --tier NAME [--steps N] [--seconds S] [--stats FILE]
predict:    --episodes FILE --checkpoint DIR --out FILE --device cpu|cuda --threads N
            --tier NAME
both:       [--compute FILE] [--flops-budget F]   (the compute ledger and the budget, meter.py)

With both --steps and --seconds, training stops at whichever comes first.
"""

from __future__ import annotations

import argparse
from typing import Sequence


def meta_train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="meta-train")
    p.add_argument("--train-pool", required=True, help="npz training pool (TaskSampler.load)")
    p.add_argument("--checkpoint", required=True, help="directory to write the checkpoint into")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--tier", default="smoke", help="smoke | full | gpu: agents may scale to it")
    p.add_argument("--steps", type=int, default=None, help="optimiser-step budget")
    p.add_argument("--seconds", type=float, default=None, help="wall-clock budget")
    p.add_argument("--stats", default=None, help="optional JSON file for training statistics")
    _compute_args(p)
    return p


def _compute_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--compute", default=None, help="where the harness writes the compute ledger")
    p.add_argument("--flops-budget", type=float, default=None,
                   help="FLOPs this command may spend (counted by icl_harness.METER)")


def predict_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="predict")
    p.add_argument("--episodes", required=True, help="npz episodes file (io.load_episodes)")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--out", required=True, help="npz logits file to write (io.save_logits)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--tier", default="smoke")
    _compute_args(p)
    return p


def parse(command: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the host's arguments for ``command`` ("meta-train" or "predict")."""
    from .meter import METER
    parser = {"meta-train": meta_train_parser, "predict": predict_parser}[command]()
    args = parser.parse_args(argv)
    METER.configure("train" if command == "meta-train" else "predict", args.compute,
                    args.flops_budget)
    return args
