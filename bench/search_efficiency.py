"""Search efficiency at equal budget: selection strategies and proposal operators.

Each (variant, seed) pair is a real offline `dgm run` (mutation proposer, the
given suite, first stage only by default) in its own archive, with the same
number of committed children. A variant is a selection strategy plus
``[run.search]`` settings:

    dgm, dgm2025, hgm, qd, greedy, random    the strategy; bandit and crossover on
    dgm-nobandit                             dgm, operators at fixed prior weights
    dgm-nocrossover                          dgm, no crossover operator
    dgm-plain                                dgm, neither (the operators of issue 5)
    dgm-nodedup                              dgm without duplicate detection and pre-check

Confirmation seeds are off (``confirm_seeds = 0``) so every variant spends its
evaluations on children only. Prints, per variant, the mean best gain over the
seed with a bootstrap 95 % interval over run seeds, and wasted evaluations per
100 children: evaluated children that crashed or scored 0 on stage 1, that
were the same program as an earlier agent (evaluated anyway: only with dedup
off), or whose configuration leaves the declared search space; plus what the
machinery saved (duplicates recognised, pre-check rejections). Saves the mean
best-so-far curves as a PNG and everything as results.json.

    python bench/search_efficiency.py --children 24 --seeds 0 1 2 3 4          # the full size
    python bench/search_efficiency.py --children 8 --seeds 0 1 --variants dgm greedy random
    python bench/search_efficiency.py --toy --children 24 --seeds 0 1 2 3 4    # toy line fit, minutes

Scores are step-budgeted, so they do not depend on machine load; only the wall time does.
Finished runs are reused (delete the output folder to start over).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DGM = str(Path(sys.executable).parent / "dgm")
sys.path.insert(0, str(ROOT))

VARIANTS: dict[str, tuple[str, dict]] = {
    "dgm": ("dgm", {}),
    "dgm2025": ("dgm2025", {}),
    "hgm": ("hgm", {}),
    "qd": ("qd", {}),
    "greedy": ("greedy", {}),
    "random": ("random", {}),
    "dgm-nobandit": ("dgm", {"bandit": False}),
    "dgm-nocrossover": ("dgm", {"crossover": False}),
    "dgm-plain": ("dgm", {"bandit": False, "crossover": False}),
    "dgm-nodedup": ("dgm", {"dedup": False, "precheck": False}),
}


def toml_value(v) -> str:
    return json.dumps(v) if not isinstance(v, bool) else str(v).lower()


def run_one(out: Path, variant: str, seed: int, args: argparse.Namespace) -> dict:
    selection, search = VARIANTS[variant]
    arch = out / f"{variant}-s{seed}"
    if not (arch / "bench_seconds.txt").exists():
        cfg = out / f"{variant}.toml"
        table = {"confirm_seeds": 0, **search, **({"dedup": False} if args.no_dedup else {})}
        cfg.write_text("[run.search]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items()))
        cmd = [DGM, "run", "--archive", str(arch), "--config", str(cfg), "--selection", selection,
               "--seed", str(seed), "--children", str(args.children), "--workers", str(args.workers),
               "--quiet", "--max-stages", str(args.max_stages), "--suite", args.suite]
        if args.seed_agent:
            cmd += ["--seed-agent", args.seed_agent]
        if args.unsafe:
            cmd += ["--unsafe"]
        elif args.sandbox:
            cmd += ["--sandbox", args.sandbox]
        t0 = time.monotonic()
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{variant} seed {seed} failed:\n{r.stderr[-2000:]}")
        (arch / "bench_seconds.txt").write_text(f"{time.monotonic() - t0:.1f}")
    return measure(arch, variant, seed)


def measure(arch: Path, variant: str, seed: int) -> dict:
    from dgm.archive.store import Archive
    from dgm.engine.dedup import fingerprint_dir
    from dgm.engine.precheck import static_check
    import tempfile

    with Archive.open(arch, readonly=True) as a:
        rows = a.query("SELECT id, parent IS NULL, score, status, reason FROM agents ORDER BY seq")
        seed_score = next(s for _, is_seed, s, _, _ in rows if is_seed) or 0.0
        curve, best = [], seed_score
        crashed = duplicates_evaluated = invalid = dups_recognised = 0
        seen: set[str] = set()
        with tempfile.TemporaryDirectory(prefix="bench-se-") as tmp:
            seed_dir = None
            for aid, is_seed, score, status, reason in rows:
                d = a.materialize(aid, Path(tmp) / aid)
                fp = fingerprint_dir(d)
                if is_seed:
                    seed_dir = d
                    seen.add(fp)
                    continue
                if status == "duplicate":
                    dups_recognised += 1
                    continue
                evaluated = a.query("SELECT COUNT(*) FROM evaluations WHERE agent=?", [aid])[0][0] > 0
                if evaluated:
                    if status == "failed" or (status == "rejected" and "scored 0" in (reason or "")):
                        crashed += 1
                    elif fp in seen:
                        duplicates_evaluated += 1
                    elif static_check(d, seed_dir) is not None:
                        invalid += 1
                seen.add(fp)
                best = max(best, score or 0.0) if status == "admitted" else best
                curve.append(best)
        prechecked = a.query("SELECT COUNT(*) FROM proposals WHERE status='rejected' "
                             "AND reason LIKE 'pre-check failed%'")[0][0]
        ops = dict(a.query("SELECT operator, COUNT(*) FROM proposal_meta WHERE agent IS NOT NULL "
                           "GROUP BY operator"))
        wins = dict(a.query("SELECT operator, SUM(success) FROM operator_outcomes GROUP BY operator"))
    return {"variant": variant, "seed": seed, "seed_score": seed_score, "best": best,
            "gain": best - seed_score, "curve": curve, "children": len(curve),
            "wasted": {"crashed": crashed, "duplicates": duplicates_evaluated, "invalid": invalid},
            "saved": {"duplicates": dups_recognised, "prechecked": prechecked},
            "operators": ops, "operator_wins": wins,
            "seconds": float((arch / "bench_seconds.txt").read_text())}


def bootstrap(values: list[float], reps: int = 10000, seed: int = 0) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the mean."""
    if len(values) < 2:
        return (values[0], values[0]) if values else (float("nan"), float("nan"))
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(values, k=len(values))) for _ in range(reps))
    return means[int(0.025 * reps)], means[int(0.975 * reps) - 1]


def table(results: list[dict], variants: list[str]) -> str:
    lines = ["| variant | runs | seed score | mean best gain | 95 % bootstrap | wasted /100 children "
             "(crash, dup, invalid) | saved: dups, pre-check | min/run |",
             "|---|---:|---:|---:|---|---|---|---:|"]
    for v in variants:
        rs = [r for r in results if r["variant"] == v]
        if not rs:
            continue
        gains = [r["gain"] for r in rs]
        lo, hi = bootstrap(gains)
        kids = sum(r["children"] for r in rs) or 1
        w = {k: sum(r["wasted"][k] for r in rs) for k in ("crashed", "duplicates", "invalid")}
        waste = 100 * sum(w.values()) / kids
        saved = (sum(r["saved"]["duplicates"] for r in rs), sum(r["saved"]["prechecked"] for r in rs))
        lines.append(f"| {v} | {len(rs)} | {statistics.fmean(r['seed_score'] for r in rs):.4f} | "
                     f"{statistics.fmean(gains):+.4f} | [{lo:+.4f}, {hi:+.4f}] | {waste:.1f} "
                     f"({w['crashed']}, {w['duplicates']}, {w['invalid']}) | {saved[0]}, {saved[1]} | "
                     f"{statistics.fmean(r['seconds'] for r in rs) / 60:.1f} |")
    return "\n".join(lines)


def plot(results: list[dict], variants: list[str], path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for v in variants:
        curves = [r["curve"] for r in results if r["variant"] == v and r["curve"]]
        if not curves:
            continue
        n = min(len(c) for c in curves)
        gains = [[c[i] - r["seed_score"] for i in range(n)]
                 for c, r in zip(curves, [r for r in results if r["variant"] == v and r["curve"]])]
        ax.plot(range(1, n + 1), [statistics.fmean(g[i] for g in gains) for i in range(n)], label=v, lw=2)
    ax.set_xlabel("child")
    ax.set_ylabel("best gain over the seed so far (mean over run seeds)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--children", type=int, default=24)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--suite", default="icl")
    ap.add_argument("--seed-agent", default=None)
    ap.add_argument("--max-stages", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sandbox", default=None)
    ap.add_argument("--unsafe", action="store_true", help="no sandbox (trusted agents only)")
    ap.add_argument("--no-dedup", action="store_true", help="evaluate duplicates (to count them)")
    ap.add_argument("--toy", action="store_true", help="the toy line-fit suite with bench/toy_space "
                    "(an agent with a declared search space), both stages, no sandbox")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "search_efficiency")
    args = ap.parse_args()
    if args.toy:
        args.suite, args.seed_agent = "tests/loop/toy/suite", "bench/toy_space"
        args.unsafe, args.max_stages = True, 2
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for seed in args.seeds:  # seed-major: a cut-short run still has every variant
        for v in args.variants:
            results.append(run_one(args.out, v, seed, args))
            (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"suite {args.suite}, {args.children} children, run seeds {args.seeds}, "
          f"stages {args.max_stages}, workers {args.workers}\n")
    print(table(results, args.variants))
    print("\nmean best gain after child k:")
    for v in args.variants:
        rs = [r for r in results if r["variant"] == v]
        n = min(len(r["curve"]) for r in rs)
        print(f"{v:<16} " + " ".join(f"{statistics.fmean(r['curve'][i] - r['seed_score'] for r in rs):+.3f}"
                                     for i in range(n)))
    print("\noperators used (children) and their wins over the parent, summed over runs:")
    for v in args.variants:
        used: dict[str, int] = {}
        won: dict[str, int] = {}
        for r in results:
            if r["variant"] == v:
                for k, n in r["operators"].items():
                    used[k] = used.get(k, 0) + n
                for k, n in r["operator_wins"].items():
                    won[k] = won.get(k, 0) + (n or 0)
        print(f"{v:<16} " + ", ".join(f"{k} {won.get(k, 0)}/{n}" for k, n in sorted(used.items())))
    png = args.out / "search_efficiency.png"
    label = "toy line fit" if args.toy else Path(args.suite).name
    plot(results, args.variants, png, f"search efficiency on {label} ({args.max_stages} stage(s)), "
         f"{len(args.seeds)} run seeds x {args.children} children")
    print(f"\nwrote {png} and {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
