"""The seed meta-learner on the icl suite's stages: scores per cell across seeds, and timing.

    .venv/bin/python bench/icl_seed.py [--seeds 3] [--agent agents/metalearner] [--sandbox local]

For each seed: stage 1 (smoke, meta-training from scratch: no checkpoint reuse)
then stage 2 (full, reusing stage 1's checkpoint, as the loop does). Prints a
markdown table of mean [min-max] query accuracy per (pool, n_ctx) next to the
baselines, the stage scores, and per stage the wall time and the CPU seconds
spent by sandboxed children (on a busy machine, CPU seconds are the figure that
carries over: one meta-training runs on one thread).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dgm.suites import EvalContext, load_spec, load_suite  # noqa: E402


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--agent", type=Path, default=REPO / "agents" / "metalearner")
    ap.add_argument("--sandbox", default="local", help="local, auto, docker or bwrap")
    args = ap.parse_args()
    load_suite("icl")
    scorer = sys.modules["dgm_suite_icl"]
    if args.sandbox == "local":
        from dgm.sandbox.local import LocalSandbox
        box = LocalSandbox()
    else:
        from dgm.sandbox.select import choose_sandbox
        box = choose_sandbox(args.sandbox)
    cells: dict[tuple[str, str], dict] = {}
    scores: dict[str, list[float]] = {}
    timing: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="dgm-icl-seed-") as tmp:
        for seed in range(args.seeds):
            ckpt_cache = Path(tmp) / f"ckpt{seed}"  # fresh per seed: stage 1 always trains
            for stage in (0, 1):
                suite = scorer.IclSuite(load_spec("icl"), checkpoint_dir=ckpt_cache)
                suite.plan(stage)  # baselines cached before timing starts (as in a running loop)
                ctx = EvalContext(sandbox=box, workdir=Path(tmp) / f"s{seed}-{stage}", seed=seed)
                ctx.workdir.mkdir()
                c0, w0 = children_cpu(), time.monotonic()
                out = suite.evaluate(args.agent.resolve(), stage, ctx)
                timing.setdefault(suite.stages[stage].name, []).append(
                    (time.monotonic() - w0, children_cpu() - c0))
                if "failure.txt" in out.artifacts:
                    print(out.artifacts["failure.txt"])
                    return 1
                name = suite.stages[stage].name
                scores.setdefault(name, []).append(out.score)
                for c in json.loads(out.artifacts["diagnostics.json"])["cells"]:
                    cells.setdefault((name, c["cell"]), {**c, "runs": []})["runs"].append(c["agent"])
                print(f"seed {seed} stage {name}: score {out.score:.4f}", flush=True)
    for stage_name in scores:
        print(f"\nstage {stage_name}\n")
        print("| cell | T | chance | 1-NN | 5-NN | centroid | logreg | seed agent, mean [min-max] |")
        print("|---|---|---|---|---|---|---|---|")
        for (sname, name), c in cells.items():
            if sname != stage_name:
                continue
            runs = c["runs"]
            print(f"| {name} | {c['tasks']} | {c['chance']:.3f} | {c['nn1']:.3f} | {c['knn5']:.3f} | "
                  f"{c['centroid']:.3f} | {c['logreg']:.3f} | **{sum(runs) / len(runs):.3f}** "
                  f"[{min(runs):.3f}-{max(runs):.3f}] |")
    print()
    for name, s in scores.items():
        w = [t[0] for t in timing[name]]
        cpu = [t[1] for t in timing[name]]
        print(f"stage {name}: score {sum(s) / len(s):.4f} [{min(s):.4f}-{max(s):.4f}], wall "
              f"{min(w):.1f}-{max(w):.1f} s, sandboxed CPU {min(cpu):.1f}-{max(cpu):.1f} s "
              f"(load average now {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
