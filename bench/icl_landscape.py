"""The icl benchmark's landscape: the seed, the classical references and hand-made variants.

    PYTHONPATH=. .venv/bin/python bench/icl_landscape.py [--seeds 3] [--workers 2] [--out FILE]

Every agent runs the suite's real stages (suite.toml: stage 1 ``smoke`` and
stage 2 ``full``, disjoint tasks) with meta-train seeds 0..S-1, under the
stages' FLOP budget. Printed per agent: stage scores as mean ± sd over seeds
(the open score, mean over tasks of (acc - chance) / (ceiling - chance)), the mean
per-stage SE from task sampling, training FLOPs, and whether it beats logistic
regression (paired over tasks, > 2 SE, in every seed). The reference rows
(chance, 1-NN, centroid, LDA, logreg) are computed on the very same tasks with
the same formula; they do not depend on a seed.

The agents are this repository's own, so they run with the local (unsandboxed)
backend to keep the sandbox's overhead out of the timing. One salt (a fixed
bench salt) so the rows are comparable. Sized for about 15-25 minutes on 2
loaded cores: 9 agents × S seeds, stage 1 + stage 2 (stage 2 reuses stage 1's
checkpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "agents" / "metalearner"
SALT = "b3ec0ffee0ddba11b3ec0ffee0ddba11"

# name: (description, {file: [(old, new), ...]})
VARIANTS: dict[str, tuple[str, dict[str, list[tuple[str, str]]]]] = {
    "seed": ("the seed as committed (500 steps, d 64)", {}),
    "smaller model": ("d_model 32, d_ff 64, 2 layers", {"config.py": [
        ('"d_model": 64,', '"d_model": 32,'), ('"n_layers": 3,', '"n_layers": 2,'),
        ('"d_ff": 128,', '"d_ff": 64,')]}),
    "bigger model": ("d_model 128, d_ff 256", {"config.py": [
        ('"d_model": 64,', '"d_model": 128,'), ('"d_ff": 128,', '"d_ff": 256,')]}),
    "fewer steps": ("125 steps", {"config.py": [("train_steps = 500", "train_steps = 125")]}),
    "more steps": ("2000 steps", {"config.py": [("train_steps = 500", "train_steps = 2000")]}),
    "lr x0.1": ("lr 1e-4", {"config.py": [('"lr": 1e-3,', '"lr": 1e-4,')]}),
    "lr x10": ("lr 1e-2", {"config.py": [('"lr": 1e-3,', '"lr": 1e-2,')]}),
    "no normalisation": ("every LayerNorm replaced by the identity", {"model.py": [
        ("self.norm1 = nn.LayerNorm(d_model)", "self.norm1 = nn.Identity()"),
        ("self.norm2 = nn.LayerNorm(d_model)", "self.norm2 = nn.Identity()"),
        ("self.norm = nn.LayerNorm(d_model)", "self.norm = nn.Identity()")]}),
    "more steps + ctx 100": ("2000 steps, training contexts 5-100", {"config.py": [
        ("train_steps = 500", "train_steps = 2000"), ('"n_ctx_max": 60,', '"n_ctx_max": 100,')]}),
}


def make_agent(name: str, dest: Path) -> Path:
    shutil.copytree(SEED, dest, ignore=shutil.ignore_patterns("__pycache__"))
    for fname, edits in VARIANTS[name][1].items():
        path = dest / fname
        text = path.read_text()
        for old, new in edits:
            if old not in text:
                raise SystemExit(f"variant {name}: {old!r} not in {fname}")
            text = text.replace(old, new, 1)
        path.write_text(text)
    return dest


def _suite(cache: Path):
    sys.path.insert(0, str(REPO))
    from dgm.suites import load_suite
    suite = load_suite("icl")
    suite.cache, suite.checkpoint_dir = cache, cache / "landscape-checkpoints"
    return suite


def run_one(job: tuple[str, int, str]) -> dict:
    """Both stages for one (variant, seed); returns scores, SEs, compute, comparisons."""
    name, seed, cache = job
    from dgm.sandbox.local import LocalSandbox
    from dgm.suites import EvalContext
    suite = _suite(Path(cache))
    out: dict = {"agent": name, "seed": seed, "stages": []}
    with tempfile.TemporaryDirectory(prefix="icl-landscape-") as tmp:
        agent = make_agent(name, Path(tmp) / "agent")
        box = LocalSandbox()
        for stage in range(len(suite.stages)):
            ctx = EvalContext(sandbox=box, workdir=Path(tmp) / f"s{stage}", seed=seed, secret=SALT)
            ctx.workdir.mkdir()
            t0, c0 = time.monotonic(), os.times()
            res = suite.evaluate(agent, stage, ctx)
            c1 = os.times()
            rec = json.loads(res.artifacts["stage.json"])
            rec["wall_s"] = time.monotonic() - t0
            rec["cpu_s"] = (c1.children_user + c1.children_system) - (c0.children_user + c0.children_system)
            rec["failure"] = res.artifacts.get("failure.txt", "").splitlines()[0] if \
                "failure.txt" in res.artifacts else None
            out["stages"].append(rec)
        box.close()
    return out


def references(cache: Path) -> list[dict]:
    suite = _suite(cache)
    from icl_host import report
    rows = []
    for stage in range(len(suite.stages)):
        plan = suite.plan(stage, SALT)
        rows.append(report.compare(plan.groups, plan.base, None)["references"])
    return rows


def fmt(xs: list[float]) -> str:
    a = np.asarray(xs, dtype=float)
    return f"{a.mean():.3f} ± {a.std(ddof=1) if a.size > 1 else 0:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--agents", default=";".join(VARIANTS), help="variant names, separated by ';'")
    ap.add_argument("--cache", default=None, help="icl cache folder (baselines, checkpoints)")
    ap.add_argument("--out", default=None, help="also write the raw results as JSON here")
    args = ap.parse_args()
    cache = Path(args.cache) if args.cache else Path(tempfile.gettempdir()) / "icl-landscape-cache"
    names = [n.strip() for n in args.agents.split(";") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; known: {'; '.join(VARIANTS)}")
    t0 = time.monotonic()
    refs = references(cache)  # the baselines, once (cached on disk for the workers)
    print(f"references computed in {time.monotonic() - t0:.0f} s", flush=True)
    jobs = [(n, s, str(cache)) for s in range(args.seeds) for n in names]
    results: list[dict] = []
    with ProcessPoolExecutor(args.workers) as pool:
        for r in pool.map(run_one, jobs):
            st = r["stages"]
            print(f"{r['agent']:>24} seed {r['seed']}: " + ", ".join(
                f"{s['score']:.3f}±{s['se']:.3f}" + (f" [{s['failure']}]" if s.get("failure") else "")
                for s in st) + f", {st[0]['compute'].get('train_flops', 0) / 1e12:.2f} TFLOP, "
                f"meta-train {st[0]['compute'].get('train_seconds') or 0:.0f} s", flush=True)
            results.append(r)
    n_st = len(refs)
    head = "| agent | " + " | ".join(f"stage {i + 1} (sd over seeds)" for i in range(n_st)) + \
        " | task SE | train TFLOP | meta-train s | beats logreg |"
    lines = [head, "|" + "---|" * (n_st + 5)]
    for name in names:
        rs = [r for r in results if r["agent"] == name]
        cols = [fmt([r["stages"][i]["score"] for r in rs]) for i in range(n_st)]
        se = np.mean([r["stages"][-1]["se"] for r in rs])
        fl = np.mean([r["stages"][0]["compute"].get("train_flops", 0) for r in rs]) / 1e12
        cpu = np.mean([r["stages"][0]["compute"].get("train_seconds") or 0 for r in rs])
        beats = all((r["stages"][i].get("vs_logreg") or {}).get("beats") for r in rs for i in range(n_st))
        fails = {r["stages"][0].get("failure") for r in rs} - {None}
        lines.append(f"| {name} | " + " | ".join(cols) + f" | {se:.3f} | {fl:.2f} | {cpu:.0f} | "
                     f"{'yes' if beats else 'no'}{' (' + '; '.join(fails) + ')' if fails else ''} |")
    for r in ("chance", "nn1", "centroid", "lda", "logreg"):
        lines.append(f"| reference: {r} | " + " | ".join(f"{refs[i][r]['score']:.3f}" for i in range(n_st))
                     + f" | {refs[-1][r]['se']:.3f} | - | - | {'-' if r == 'logreg' else ''} |")
    print("\n" + "\n".join(lines))
    print(f"\ntotal {time.monotonic() - t0:.0f} s wall, {args.seeds} seeds, {args.workers} workers")
    if args.out:
        Path(args.out).write_text(json.dumps({"results": results, "references": refs}, indent=1))


if __name__ == "__main__":
    main()
