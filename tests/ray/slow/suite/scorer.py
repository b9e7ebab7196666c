"""The toy-fit scorer, writing `start|end <pid> <node> <stage> <commit-ish>` lines to the
file named by DGM_RAY_TEST_LOG (set on the Ray nodes by tests/ray/cluster.py)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import time
from pathlib import Path

_toy = Path(__file__).resolve().parents[3] / "loop" / "toy" / "suite" / "scorer.py"
_spec = importlib.util.spec_from_file_location("dgm_test_toy_scorer", _toy)
toy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(toy)


def log(event: str, stage: int, agent_dir: Path) -> None:
    path = os.environ.get("DGM_RAY_TEST_LOG")
    if not path:
        return
    code = hashlib.sha256((agent_dir / "predict.py").read_bytes()).hexdigest()[:12]
    node = os.environ.get("DGM_RAY_TEST_NODE", "driver")
    with open(path, "a") as f:  # one short line per write: appends do not interleave
        f.write(f"{event} {os.getpid()} {node} {stage} {code} {time.time():.3f}\n")


class SlowFit(toy.ToyFit):
    def evaluate(self, agent_dir, stage, ctx):
        log("start", stage, agent_dir)
        outcome = super().evaluate(agent_dir, stage, ctx)
        log("end", stage, agent_dir)
        return outcome


def make_suite(spec):
    return SlowFit(spec)
