"""Speed of the coding suites' harness, per sandbox backend. Prints figures.

    .venv/bin/python bench/coding_suites.py [--backends unsafe,bwrap,docker]

Measures: building a task testbed (deterministic git repo); grading every
swe-mini gold patch and every empty patch; grading HumanEval's 164 canonical
solutions; and the harness overhead of one agent run (an agent that does
nothing, on swe-mini's 5-task first stage: solve + diff capture + grading).
The 1-minute load average is printed too: the numbers scale with it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dgm.suites import EvalContext, load_suite  # noqa: E402


def sandbox_for(kind: str):
    if kind == "unsafe":
        from dgm.sandbox.local import LocalSandbox
        return LocalSandbox()
    from dgm.sandbox.select import choose_sandbox
    return choose_sandbox(kind, echo=lambda line: None)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def idle_agent(root: Path) -> Path:
    d = root / "idle-agent"
    d.mkdir()
    (d / "agent.toml").write_text('name = "idle"\ndomain = "coding"\n[commands]\n'
                                  'solve = ["python3", "-c", "print(1)"]\n')
    return d


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="unsafe,bwrap,docker")
    args = ap.parse_args()
    swe, he = load_suite("swe-mini"), load_suite("humaneval")
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.1f}; cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        n = 10
        _, t = timed(lambda: [swe.tasks["swemini__kvparse-1"].build_testbed(Path(tmp) / f"tb{i}")
                              for i in range(n)])
        print(f"build one swe-mini testbed (git init+commit): {t / n * 1000:.0f} ms")
    for kind in args.backends.split(","):
        try:
            sb = sandbox_for(kind)
        except Exception as exc:  # report and go on with the other backends
            print(f"[{kind}] unavailable: {exc}")
            continue
        with sb:
            gold = {t: swe.tasks[t].gold_patch for t in swe.tasks}
            res, t = timed(lambda: swe.grade_many(gold, sb))
            print(f"[{kind}] swe-mini gold, {len(gold)} tasks: {sum(r.resolved for r in res.values())} "
                  f"resolved in {t:.1f} s ({t / len(gold):.2f} s/task, {swe.grading.workers} workers)")
            res, t = timed(lambda: swe.grade_many({k: "" for k in gold}, sb))
            print(f"[{kind}] swe-mini empty, {len(gold)} tasks: {sum(r.resolved for r in res.values())} "
                  f"resolved in {t:.1f} s")
            canon = {k: he.tasks[k].canonical_patch() for k in he.tasks}
            res, t = timed(lambda: he.grade_many(canon, sb))
            print(f"[{kind}] humaneval canonical, {len(canon)} tasks: "
                  f"{sum(r.resolved for r in res.values())} passed in {t:.1f} s")
            with tempfile.TemporaryDirectory() as tmp:
                agent = idle_agent(Path(tmp))
                (Path(tmp) / "w").mkdir()
                ctx = EvalContext(sandbox=sb, workdir=Path(tmp) / "w")
                out, t = timed(lambda: swe.evaluate(agent, 0, ctx))
            print(f"[{kind}] swe-mini stage 1 with an idle agent ({len(out.results)} tasks: solve + "
                  f"capture + grade): {t:.1f} s ({t / len(out.results):.2f} s/task)")
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
