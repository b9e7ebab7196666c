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

from .baselines import BASELINES, LABELS, REFERENCES
from .episodes import Group
from .scoring import mean_se, task_score


def cell_rows(groups: list[Group], accs: dict[str, np.ndarray] | None,
              base: dict[str, dict[str, np.ndarray]],
              scores: dict[str, np.ndarray] | None = None) -> list[dict[str, Any]]:
    """Per cell: mean accuracy of every baseline (and the agent), and the open score of the
    references (and the agent), all computed per task with the same formula."""
    rows = []
    for g in groups:
        b = base[g.name]
        row: dict[str, Any] = {"cell": g.name, "pool": g.pool, "n_ctx": g.n_ctx, "tasks": len(g)}
        row.update({k: float(b[k].mean()) for k in BASELINES})
        row["ceiling"] = float(b["ceiling"].mean())
        row["scores"] = {r: float(ref_score(b, r).mean()) for r in REFERENCES}
        if accs is not None:
            row["agent"] = float(accs[g.name].mean())
            agent = scores[g.name] if scores is not None else \
                task_score(accs[g.name], b["chance"], b["ceiling"])
            row["scores"]["agent"] = float(np.mean(agent))
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]], with_agent: bool) -> str:
    """Query accuracy per cell: every baseline, and the agent."""
    cols = ["ceiling"] + list(BASELINES) + (["agent"] if with_agent else [])
    head = "| cell | T | " + " | ".join(LABELS.get(c, c) for c in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 2)]
    for r in rows:
        lines.append(f"| {r['cell']} | {r['tasks']} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + " |")
    return "\n".join(lines)


def score_table(rows: list[dict[str, Any]], with_agent: bool) -> str:
    """The open score (acc - chance) / (ceiling - chance) per cell: the references, and the agent."""
    cols = list(REFERENCES) + (["agent"] if with_agent else [])
    head = "| cell | " + " | ".join(LABELS.get(c, c) for c in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 1)]
    for r in rows:
        lines.append(f"| {r['cell']} | " + " | ".join(f"{r['scores'][c]:.3f}" for c in cols) + " |")
    return "\n".join(lines)


def reference_scores(groups: list[Group], base: dict[str, dict[str, np.ndarray]]
                     ) -> dict[str, np.ndarray]:
    """Every reference's per-task open score over the stage's tasks, in group order."""
    return {r: np.concatenate([ref_score(base[g.name], r) for g in groups]) for r in REFERENCES}


def ref_score(b: dict[str, np.ndarray], ref: str) -> np.ndarray:
    """A reference learner's per-task open score, from its accuracies (the agent's formula)."""
    return task_score(b[ref], b["chance"], b["ceiling"])


def compare(groups: list[Group], base: dict[str, dict[str, np.ndarray]],
            agent: dict[str, np.ndarray] | None) -> dict[str, Any]:
    """Stage score with its standard error, the references' alike, and per pool which
    references the agent beats: a paired difference over the same tasks above 2 SE."""
    refs = reference_scores(groups, base)
    out: dict[str, Any] = {"references": {r: dict(zip(("score", "se"), mean_se(v)))
                                          for r, v in refs.items()}}
    if agent is None:
        return out
    a = np.concatenate([agent[g.name] for g in groups])
    out["score"], out["se"] = mean_se(a)
    out["tasks"] = int(a.size)
    pools: dict[str, Any] = {}
    for pool in dict.fromkeys(g.pool for g in groups):
        sel = [g for g in groups if g.pool == pool]
        ap = np.concatenate([agent[g.name] for g in sel])
        entry: dict[str, Any] = {"score": mean_se(ap)[0], "beats": [], "ties": [], "behind": []}
        for r in REFERENCES:
            rp = np.concatenate([ref_score(base[g.name], r) for g in sel])
            d, se = mean_se(ap - rp)
            entry.setdefault("diff", {})[r] = {"mean": d, "se": se}
            entry["beats" if d > 2 * se else "behind" if d < -2 * se else "ties"].append(r)
        pools[pool] = entry
    out["pools"] = pools
    d, se = mean_se(a - refs["logreg"])
    out["vs_logreg"] = {"mean": d, "se": se, "beats": d > 2 * se}
    return out


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


def comparison_text(cmp: dict[str, Any]) -> str:
    lines = []
    for pool, e in cmp.get("pools", {}).items():
        beats = ", ".join(LABELS[r] for r in e["beats"]) or "none"
        ties = ", ".join(LABELS[r] for r in e["ties"])
        lines.append(f"- {pool}: score {e['score']:.3f}; beats {beats}" + (f"; ties {ties}" if ties else ""))
    return "\n".join(lines)


def summary_text(stage: str, rows: list[dict[str, Any]], cmp: dict[str, Any],
                 compute: dict[str, Any] | None = None) -> str:
    refs = ", ".join(f"{LABELS[r]} {v['score']:.3f}" for r, v in cmp["references"].items())
    lines = [f"# icl stage {stage}", "",
             f"stage score (mean over tasks of (acc - chance) / (ceiling - chance)): {cmp['score']:.4f} "
             f"± {cmp['se']:.4f} (SE, {cmp['tasks']} tasks)",
             f"references, same formula and tasks: {refs}"]
    v = cmp["vs_logreg"]
    lines.append(f"versus logistic regression (paired over tasks): {v['mean']:+.4f} ± {v['se']:.4f}"
                 + (" (beats it)" if v["beats"] else ""))
    if compute:
        lines.append("compute: " + ", ".join(f"{k} {compute[k]:.4g}" for k in sorted(compute)
                                              if isinstance(compute[k], (int, float))))
    lines += ["", "Which references the agent beats (paired difference > 2 SE), per pool:",
              comparison_text(cmp), "", "Score per cell:", "", score_table(rows, True), "",
              "Query accuracy per cell:", "", table(rows, with_agent=True)]
    return "\n".join(lines) + "\n"


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True)
