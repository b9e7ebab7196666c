"""PNG figures of an archive (``dgm plot``): progress over agents, and the tree.

``progress.png`` follows the DGM paper's figures: every agent's score in
creation order, the best and mean score of the archive so far, and the best
agent's lineage highlighted. ``tree.png`` is the archive tree (same layout as
the web viewer) coloured by score with the best path in red. Both are drawn
on matplotlib's Agg canvas without pyplot, at a fixed pixel size.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dgm.archive.store import Archive
from dgm.errors import DgmError
from dgm.web import data

DPI = 100
PROGRESS_SIZE = (1200, 700)  # pixels
TREE_SIZE = (1600, 1000)
BEST = "#d62728"
MUTED = "#9aa3ad"


def _figure(size: tuple[int, int]) -> Figure:
    fig = Figure(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def score_axis(scores: list[float]) -> tuple[float, float]:
    """The data's range with some air, kept inside [0, 1] when the scores are."""
    if not scores:
        return -0.05, 1.05
    lo, hi = min(scores), max(scores)
    pad = max(0.05, 0.12 * (hi - lo))
    return (max(lo - pad, -0.03 if lo >= 0 else lo - pad),
            min(hi + pad, 1.03 if hi <= 1 else hi + pad))


def _require_agents(a: Archive) -> None:
    if a.count() == 0:
        raise DgmError(f"archive {a.path} has no agents yet: nothing to plot")


def plot_progress(a: Archive, out: Path) -> Path:
    """Score per agent, best and mean so far, best lineage; written to ``out``."""
    _require_agents(a)
    pts = data.progress(a)["points"]
    fig = _figure(PROGRESS_SIZE)
    ax = fig.add_subplot()
    scored = [p for p in pts if p["score"] is not None]
    good = [p for p in scored if p["status"] not in ("rejected", "failed")]
    bad = [p for p in scored if p["status"] in ("rejected", "failed")]
    ax.scatter([p["i"] for p in good], [p["score"] for p in good], s=22, color="#4c78a8",
               alpha=0.75, label="agent score", zorder=3)
    if bad:
        ax.scatter([p["i"] for p in bad], [p["score"] for p in bad], s=18, color=MUTED,
                   alpha=0.7, label="rejected / failed", zorder=2)
    ylo, yhi = score_axis([p["score"] for p in scored])
    unscored = [p["i"] for p in pts if p["score"] is None]
    if unscored:  # on the bottom edge, whatever the score range
        ax.scatter(unscored, [ylo + 0.015 * (yhi - ylo)] * len(unscored), marker="x", s=18,
                   color=MUTED, label="no score", zorder=2)
    best = [(p["i"], p["best"]) for p in pts if p["best"] is not None]
    if best:
        xs, ys = zip(*best)
        ax.step(list(xs) + [pts[-1]["i"]], list(ys) + [ys[-1]], where="post", color="#ff7f0e",
                lw=2.2, label="best so far", zorder=4)
    mean = [(p["i"], p["mean"]) for p in pts if p["mean"] is not None]
    if mean:
        xs, ys = zip(*mean)
        ax.plot(xs, ys, color="#2ca02c", lw=1.6, ls="--", label="archive mean", zorder=4)
    lineage = [p for p in pts if p["on_best"] and p["score"] is not None]
    if lineage:
        ax.plot([p["i"] for p in lineage], [p["score"] for p in lineage], color=BEST, lw=1.8,
                marker="o", ms=7, label="best agent's lineage", zorder=5)
        top = lineage[-1]
        ax.annotate(f"{top['id']}  {top['score']:.3f}", (top["i"], top["score"]),
                    xytext=(6, 8), textcoords="offset points", color=BEST, fontsize=10)
    ax.set_ylim(ylo, yhi)
    ax.set_xlim(-0.5, max(1, len(pts) - 1) + 0.5)
    ax.set_xlabel("agent, in creation order")
    ax.set_ylabel("score")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9, framealpha=0.9)
    title = f"{len(pts)} agents"
    if lineage:
        title += f" · best {lineage[-1]['id']} ({lineage[-1]['score']:.3f}, depth {len(lineage) - 1})"
    ax.set_title(f"Progress of {a.path.name}: {title}", fontsize=12)
    out = Path(out)
    fig.savefig(out, dpi=DPI)
    return out


def _elbows(segments_from: list[tuple[dict, dict]]) -> list[list[tuple[float, float]]]:
    out = []
    for p, c in segments_from:
        mid = (p["y"] + c["y"]) / 2
        out.append([(p["x"], p["y"]), (p["x"], mid), (c["x"], mid), (c["x"], c["y"])])
    return out


def plot_tree(a: Archive, out: Path) -> Path:
    """The archive tree, coloured by score, best path in red; written to ``out``."""
    _require_agents(a)
    t = data.tree(a)
    nodes = t["nodes"]
    by_id = {n["id"]: n for n in nodes}
    fig = _figure(TREE_SIZE)
    ax = fig.add_subplot()
    pairs = [(by_id[n["parent"]], n) for n in nodes if n["parent"] in by_id]
    ax.add_collection(LineCollection(_elbows(pairs), colors="#b7bec7", linewidths=0.8, zorder=1))
    extra = [(by_id[e["src"]], by_id[e["dst"]]) for e in t["extra_edges"]
             if e["src"] in by_id and e["dst"] in by_id]
    if extra:
        ax.add_collection(LineCollection(
            [[(p["x"], p["y"]), (c["x"], c["y"])] for p, c in extra], colors="#8e6fd8",
            linewidths=0.9, linestyles="dashed", zorder=1, label="transplant"))
    path = [by_id[i] for i in t["best_path"]]
    if len(path) > 1:
        ax.add_collection(LineCollection(_elbows(list(zip(path, path[1:]))), colors=BEST,
                                         linewidths=2.4, zorder=2))
    size = max(6.0, min(90.0, 5000.0 / len(nodes)))
    norm = Normalize(*t["score_range"]) if t["score_range"][1] > t["score_range"][0] else \
        Normalize(t["score_range"][0] - 0.5, t["score_range"][0] + 0.5)
    scored = [n for n in nodes if n["score"] is not None]
    unscored = [n for n in nodes if n["score"] is None]
    if unscored:
        ax.scatter([n["x"] for n in unscored], [n["y"] for n in unscored], s=size, color="#c3c8cf",
                   edgecolors="white", linewidths=0.5, zorder=3, label="no score")
    sc = ax.scatter([n["x"] for n in scored], [n["y"] for n in scored], s=size,
                    c=[n["score"] for n in scored], cmap="viridis", norm=norm,
                    edgecolors="white", linewidths=0.5, zorder=3)
    if path:
        ax.scatter([n["x"] for n in path], [n["y"] for n in path], s=size * 1.6,
                   facecolors="none", edgecolors=BEST, linewidths=1.6, zorder=4,
                   label="best path")
    if len(nodes) <= 80:
        for n in nodes:
            ax.annotate(n["id"].lstrip("0") or "0", (n["x"], n["y"]), xytext=(5, -10),
                        textcoords="offset points", fontsize=8, color="#4a5361")
    fig.colorbar(sc, ax=ax, label="score", shrink=0.8, pad=0.01)
    ax.set_xlim(-1, t["width"])
    ax.set_ylim(t["levels"] - 0.4, -0.6)  # root on top
    ax.set_xticks([])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_ylabel("depth")
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    if unscored or path or extra:
        ax.legend(loc="lower right", fontsize=9)
    best = path[-1] if path else None
    ax.set_title(f"Archive tree of {a.path.name}: {len(nodes)} agents"
                 + (f" · best {best['id']} ({best['score']:.3f})" if best else ""), fontsize=12)
    out = Path(out)
    fig.savefig(out, dpi=DPI)
    return out


def plot_all(a: Archive, out_dir: Path) -> list[Path]:
    """Write progress.png and tree.png into ``out_dir`` (created if needed)."""
    _require_agents(a)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DgmError(f"cannot create the output directory {out_dir}: {exc.strerror}") from None
    return [plot_progress(a, out_dir / "progress.png"), plot_tree(a, out_dir / "tree.png")]
