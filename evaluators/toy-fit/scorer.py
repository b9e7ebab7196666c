"""Host side of the toy-fit suite: runs the agent's predict command in the sandbox."""

from __future__ import annotations

import json
import math
from pathlib import Path

from dgm.suites import EvalContext, Mount, StageOutcome, Suite, TaskResult, load_manifest


def target(x: float) -> float:
    return 3.0 * x + 2.0


class ToyFit(Suite):
    def evaluate(self, agent_dir: Path, stage: int, ctx: EvalContext) -> StageOutcome:
        xs = self.spec.stages[stage].params["xs"]
        scratch = ctx.workdir / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        (scratch / "xs.json").write_text(json.dumps(xs))
        cmd = load_manifest(agent_dir).commands["predict"] + ["/scratch/xs.json"]
        res = ctx.sandbox.run(ctx.image or self.spec.image, cmd,
                              mounts=[Mount(agent_dir, "/agent"), Mount(scratch, "/scratch", writable=True)],
                              env={}, limits=self.spec.limits.to_limits(), workdir="/scratch")
        try:
            ys = json.loads(res.stdout)
            assert len(ys) == len(xs)
        except Exception:
            reason = res.reason or "output is not a JSON list of one number per x"
            return StageOutcome([TaskResult(f"x={x}", 0.0, False, res.seconds,
                                            f"{reason}\n{res.stderr[-2000:]}") for x in xs],
                                {"failure": res.stderr[-2000:]}, res.image_digest)
        out = []
        for x, y in zip(xs, ys):
            err = abs(float(y) - target(x)) if isinstance(y, (int, float)) else math.inf
            score = math.exp(-err / 4) if math.isfinite(err) else 0.0
            out.append(TaskResult(f"x={x}", score, err < 0.5, res.seconds / len(xs), f"y={y} err={err:.3f}"))
        return StageOutcome(out, {"errors": " ".join(r.log for r in out)}, res.image_digest)


    def precheck(self, agent_dir: Path, ctx: EvalContext) -> str | None:
        """The quick check before stage 1: one prediction, which must be a JSON number list."""
        scratch = ctx.workdir / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        (scratch / "xs.json").write_text("[0.0]")
        cmd = load_manifest(agent_dir).commands["predict"] + ["/scratch/xs.json"]
        res = ctx.sandbox.run(ctx.image or self.spec.image, cmd,
                              mounts=[Mount(agent_dir, "/agent"), Mount(scratch, "/scratch", writable=True)],
                              env={}, limits=self.spec.limits.to_limits(), workdir="/scratch")
        try:
            ys = json.loads(res.stdout)
            assert isinstance(ys, list) and len(ys) == 1 and isinstance(ys[0], (int, float))
        except Exception:
            return f"predict on one x gave no number list: {(res.reason or res.stderr or res.stdout)[-300:]}"
        return None


def make_suite(spec):
    return ToyFit(spec)
