"""The artifacts a proposer reads: a per-cell summary and the three diagnostics.

Diagnostics (issue 4):
- in-context learning present: acc at the largest n_ctx minus acc at the smallest;
- memorisation: accuracy on tasks from the training pool (fresh projections), on
  the sampler's fixed tasks 0..N-1, and on the unseen pool;
- control: the same unseen episodes with shuffled context labels should fall to chance.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .baselines import BASELINES, LABELS
from .episodes import Group
from .scoring import cell_fitness


def cell_rows(groups: list[Group], accs: dict[str, np.ndarray] | None,
              base: dict[str, dict[str, np.ndarray]]) -> list[dict[str, Any]]:
    rows = []
    for g in groups:
        b = base[g.name]
        row: dict[str, Any] = {"cell": g.name, "tasks": len(g)}
        row.update({k: float(b[k].mean()) for k in BASELINES})
        if accs is not None:
            row["agent"] = float(accs[g.name].mean())
            row["normalised"] = cell_fitness(row["agent"], row["chance"], row["logreg"])
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]], with_agent: bool) -> str:
    cols = list(BASELINES) + (["agent", "normalised"] if with_agent else [])
    head = "| cell | T | " + " | ".join(LABELS.get(c, c) for c in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 2)]
    for r in rows:
        lines.append(f"| {r['cell']} | {r['tasks']} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + " |")
    return "\n".join(lines)


def throughput(stats: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    secs = stats.get("seconds")
    if isinstance(secs, (int, float)) and secs > 0:
        if isinstance(stats.get("samples"), (int, float)):
            out["samples_per_s"] = stats["samples"] / secs
        if isinstance(stats.get("flops"), (int, float)) and stats["flops"] > 0:
            out["tflops"] = stats["flops"] / secs / 1e12
        if isinstance(stats.get("steps"), (int, float)):
            out["steps_per_s"] = stats["steps"] / secs
    return out


def diagnostics(groups: list[Group], accs: dict[str, np.ndarray], base: dict[str, dict[str, np.ndarray]],
                diag: dict[str, Group], unseen: str, stats: dict[str, Any]) -> dict[str, Any]:
    d: dict[str, Any] = {"icl_gain": {}}
    by_pool: dict[str, dict[int, float]] = {}
    for g in groups:
        by_pool.setdefault(g.pool, {})[g.n_ctx] = float(accs[g.name].mean())
    for pool, per in by_pool.items():
        if len(per) >= 2:
            lo, hi = min(per), max(per)
            d["icl_gain"][pool] = {"n_ctx": [lo, hi], "gain": per[hi] - per[lo]}
    u = diag["unseen"]
    unseen_acc = float(accs[u.name][: len(diag["shuffled"])].mean()) if u.name in accs else None
    d["memorisation"] = {
        "n_ctx": u.n_ctx, "unseen_pool": unseen, "unseen_acc": unseen_acc,
        "train_pool_acc": float(accs["diag/train"].mean()),
        "seen_tasks_acc": float(accs["diag/seen"].mean()), "seen_tasks": len(diag["seen"]),
    }
    if unseen_acc is not None:
        d["memorisation"]["gap_train_pool"] = d["memorisation"]["train_pool_acc"] - unseen_acc
        d["memorisation"]["gap_seen_tasks"] = d["memorisation"]["seen_tasks_acc"] - unseen_acc
    sh = diag["shuffled"]
    d["shuffled_control"] = {"acc": float(accs[sh.name].mean()),
                             "chance": float(base[sh.name]["chance"].mean()),
                             "unshuffled_acc": unseen_acc}
    d["meta_train"] = {**stats, **throughput(stats)}
    return d


def diagnostics_text(d: dict[str, Any]) -> str:
    lines = ["# Diagnostics"]
    for pool, g in d["icl_gain"].items():
        verdict = "present" if g["gain"] > 0.02 else "absent or weak"
        lines.append(f"- in-context learning on {pool}: acc(ctx{g['n_ctx'][1]}) - acc(ctx{g['n_ctx'][0]})"
                     f" = {g['gain']:+.3f} ({verdict})")
    m = d["memorisation"]
    if m.get("unseen_acc") is not None:
        lines.append(f"- memorisation (ctx{m['n_ctx']}): training-pool tasks {m['train_pool_acc']:.3f}, "
                     f"the sampler's fixed tasks 0..{m['seen_tasks'] - 1} {m['seen_tasks_acc']:.3f}, "
                     f"unseen {m['unseen_pool']} {m['unseen_acc']:.3f} (gaps {m['gap_train_pool']:+.3f}"
                     f" / {m['gap_seen_tasks']:+.3f}; large positive gaps mean memorisation)")
    s = d["shuffled_control"]
    ok = "falls to chance, as it should" if s["acc"] <= s["chance"] + 0.05 else \
        "stays above chance: predictions do not come from the context's labels alone"
    lines.append(f"- control with shuffled context labels: {s['acc']:.3f} vs chance {s['chance']:.3f} ({ok})")
    mt = d["meta_train"]
    if mt:
        parts = [f"{k} {mt[k]:.4g}" if isinstance(mt[k], float) else f"{k} {mt[k]}" for k in
                 ("steps", "seconds", "samples_per_s", "tflops", "final_loss") if k in mt]
        lines.append("- meta-training: " + ", ".join(parts))
    return "\n".join(lines) + "\n"


def summary_text(stage: str, rows: list[dict[str, Any]], score: float) -> str:
    fitness = float(np.mean([r["normalised"] for r in rows])) if rows else 0.0
    return (f"# icl stage {stage}\n\nstage score (mean clipped per-task score): {score:.4f}\n"
            f"fitness, mean over cells of (acc - chance) / (logreg - chance): {fitness:.4f}\n\n"
            + table(rows, with_agent=True) + "\n")


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True)
