"""A harness bug: evaluate() raises. Each attempt is logged to DGM_RAY_TEST_LOG."""

from __future__ import annotations

import os
import time

from dgm.suites import Suite


class Broken(Suite):
    def evaluate(self, agent_dir, stage, ctx):
        path = os.environ.get("DGM_RAY_TEST_LOG")
        if path:
            with open(path, "a") as f:
                node = os.environ.get("DGM_RAY_TEST_NODE", "driver")
                f.write(f"start {os.getpid()} {node} {stage} - {time.time():.3f}\n")
        raise RuntimeError("the harness broke on purpose")


def make_suite(spec):
    return Broken(spec)
