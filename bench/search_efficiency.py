"""Search efficiency at equal budget: dgm vs greedy vs random parent selection.

Each (strategy, seed) pair is a real offline run through `dgm.Run` (mutation proposer, the
given suite, first stage only by default) in its own archive, all in one process. Prints the best
fitness reached and the best-so-far after every child, and saves a PNG of the
mean best-so-far curves. Scores are step-budgeted, so they do not depend on
machine load; only the wall time does.

    python bench/search_efficiency.py --children 24 --seeds 0 1 2 [--suite icl] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_one(out: Path, strategy: str, seed: int, args: argparse.Namespace) -> dict:
    """One run through the public API (dgm.Run): runs follow each other in this process."""
    import dgm

    arch = out / f"{strategy}-s{seed}"
    if not (arch / "dgm.db").exists():
        cfg = dgm.RunConfig(selection=strategy, seed=seed, children=args.children,
                            workers=args.workers, max_stages=args.max_stages, suites=[args.suite],
                            **({"seed_agent": args.seed_agent} if args.seed_agent else {}),
                            **({"sandbox": args.sandbox} if args.sandbox else {}))
        summary = dgm.Run(cfg, archive=arch, unsafe=args.sandbox == "unsafe").start()
        if summary.status != "finished":
            raise SystemExit(f"{strategy} seed {seed}: run {summary.status}")
        (arch / "bench_seconds.txt").write_text(f"{summary.seconds:.1f}")
    with dgm.open_archive(arch) as a:
        agents = a.agents()
    seed_score = next(ag.score for ag in agents if ag.parent is None) or 0.0
    curve, best = [], seed_score
    for ag in agents:
        if ag.parent is not None:
            best = max(best, ag.score or 0.0)
            curve.append(best)
    return {"strategy": strategy, "seed": seed, "seed_score": seed_score, "best": best,
            "curve": curve, "seconds": float((arch / "bench_seconds.txt").read_text())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--children", type=int, default=24)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--strategies", nargs="+", default=["dgm", "greedy", "random"])
    ap.add_argument("--suite", default="icl")
    ap.add_argument("--seed-agent", default=None)
    ap.add_argument("--max-stages", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sandbox", default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "search_efficiency")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = [run_one(args.out, s, seed, args) for s in args.strategies for seed in args.seeds]
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"suite {args.suite}, {args.children} children, seeds {args.seeds}, stages {args.max_stages}")
    print(f"{'strategy':<10} {'seed score':>10} {'best (mean)':>12} {'best per seed':>24} "
          f"{'gain':>7} {'min/run':>8}")
    for s in args.strategies:
        rs = [r for r in results if r["strategy"] == s]
        bests = [r["best"] for r in rs]
        gain = statistics.mean(r["best"] - r["seed_score"] for r in rs)
        print(f"{s:<10} {statistics.mean(r['seed_score'] for r in rs):>10.4f} "
              f"{statistics.mean(bests):>12.4f} {' '.join(f'{b:.4f}' for b in bests):>24} "
              f"{gain:>+7.4f} {statistics.mean(r['seconds'] for r in rs) / 60:>8.1f}")
    print("\nbest-so-far after child k (mean over seeds):")
    for s in args.strategies:
        curves = [r["curve"] for r in results if r["strategy"] == s]
        n = min(len(c) for c in curves)
        mean = [statistics.mean(c[i] for c in curves) for i in range(n)]
        print(f"{s:<10} " + " ".join(f"{v:.3f}" for v in mean))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for s in args.strategies:
        curves = [r["curve"] for r in results if r["strategy"] == s]
        n = min(len(c) for c in curves)
        ax.plot(range(1, n + 1), [statistics.mean(c[i] for c in curves) for i in range(n)], label=s, lw=2)
    ax.set_xlabel("child")
    ax.set_ylabel("best fitness so far (mean over seeds)")
    ax.set_title(f"search efficiency on {args.suite} (stage 1), {len(args.seeds)} seeds")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out / "search_efficiency.png", dpi=100)
    print(f"\nwrote {args.out / 'search_efficiency.png'} and results.json")


if __name__ == "__main__":
    main()
