"""Read models of an archive for the viewer, its JSON API and the plots.

Plain dicts and lists from the Archive API only: no web framework here, so
``dgm.web.plots`` shares the same series. Nothing in this module writes.
"""

from __future__ import annotations

import json
import time
from typing import Any

from dgm.archive.store import Archive
from dgm.archive.view import spend
from dgm.errors import DgmError
from dgm.archive.lineage import Lineage
from dgm.web.layout import tree_layout

STATUS_ORDER = ("admitted", "evaluating", "proposed", "rejected", "failed", "duplicate")
TERMINAL = {"admitted", "rejected", "failed", "duplicate"}
MAX_DIFF_LINES = 6000
MAX_TEXT_CHARS = 400_000
MAX_FILE_BYTES = 1_000_000


class NotFound(DgmError):
    """A path inside an agent, an artifact or a page that does not exist."""


def version(a: Archive) -> str:
    """Changes whenever anything the viewer shows changes (cheap: five indexed MAXes)."""
    n, upd = a.query("SELECT COUNT(*), COALESCE(MAX(updated), 0) FROM agents")[0]
    tails = a.query("SELECT (SELECT COALESCE(MAX(id), 0) FROM proposals), "
                    "(SELECT COALESCE(MAX(id), 0) FROM usage), "
                    "(SELECT COALESCE(MAX(seq), 0) FROM events), "
                    "(SELECT COALESCE(MAX(updated), 0) FROM runs)")[0]
    return f"{n}-{upd:.6f}-" + "-".join(str(t) for t in tails)


def _cost(a: Archive, run: str | None = None, agent: str | None = None) -> dict[str, Any]:
    """Spend from the one ledger (``usage``: every metered call), plus, for attribution, what
    the proposals recorded; ``proposals`` is the same money again, so it is never added."""
    led = spend(a, run=run, agent=agent)
    where = " WHERE run=?" if run else " WHERE agent=?" if agent else ""
    c, p, t = a.query("SELECT COALESCE(SUM(cost), 0), COALESCE(SUM(prompt_tokens), 0), "
                      "COALESCE(SUM(completion_tokens), 0) FROM proposals" + where,
                      [run or agent] if where else [])[0]
    return {"proposals": {"cost": c, "prompt_tokens": p, "completion_tokens": t},
            "usage": {"cost": led.cost, "prompt_tokens": led.prompt_tokens,
                      "completion_tokens": led.completion_tokens, "calls": led.calls},
            "total_cost": led.cost, "total_tokens": led.tokens}


BOUND_KEYS = {"children", "max_children", "iterations", "max_iterations", "wall_seconds"}


def _budget_items(config: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """The run config's bounds (``model.budget_usd``, ``children``, ``wall_seconds``...), flattened."""
    if not isinstance(config, dict):
        return []
    items = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items.extend(_budget_items(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and (
                "budget" in key.lower() or key.lower() in BOUND_KEYS):
            items.append((name, value))
    return items


def _used(name: str, spent: dict, children: int, elapsed: float | None) -> float | None:
    low = name.lower().rsplit(".", 1)[-1]
    if "usd" in low or "cost" in low:
        return spent["total_cost"]
    if "token" in low:
        return spent["total_tokens"]
    if "children" in low or "iterations" in low:
        return children
    if "seconds" in low:
        return elapsed
    return None


def runs(a: Archive) -> list[dict]:
    """Every run with its config's bounds and how much of each it has used."""
    out = []
    for rid, status, created, updated, seed, config, finished in a.query(
            "SELECT id, status, created, updated, seed, config, finished FROM runs ORDER BY created"):
        try:
            cfg = json.loads(config) if config else {}
        except ValueError:
            cfg = {}
        spent = _cost(a, run=rid)
        children = a.query("SELECT COUNT(*) FROM agents WHERE run=? AND parent IS NOT NULL "
                           "AND status != 'duplicate'", [rid])[0][0]  # duplicates cost no budget
        end = finished or (time.time() if status == "running" else updated)
        elapsed = end - created if created and end else None
        bounds = [{"name": name, "limit": limit, "used": _used(name, spent, children, elapsed)}
                  for name, limit in _budget_items(cfg)]
        out.append({"id": rid, "status": status, "created": created, "updated": updated,
                    "finished": finished, "seed": seed, "children": children,
                    "cost": spent["total_cost"], "tokens": spent["total_tokens"],
                    "elapsed": elapsed, "bounds": bounds})
    return out


def summary(a: Archive) -> dict:
    """Counts by status, best agent, spend and runs: the overview's header."""
    counts = dict(a.query("SELECT status, COUNT(*) FROM agents GROUP BY status"))
    best = a.best(1)
    b = best[0] if best else None
    rejected = a.query("SELECT COUNT(*) FROM proposals WHERE status='rejected'")[0][0]
    last = a.query("SELECT MAX(updated) FROM agents")[0][0]
    return {
        "archive": str(a.path), "version": version(a), "agents": sum(counts.values()),
        "by_status": {s: counts.get(s, 0) for s in STATUS_ORDER} | counts,
        "rejected_proposals": rejected, "updated": last,
        "best": None if b is None else {"id": b.id, "score": b.score, "summary": b.summary},
        "cost": _cost(a), "runs": runs(a),
    }


def _short(text: str | None, n: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def tree(a: Archive) -> dict:
    """Every agent with its layout position, the best path and score range."""
    lin = Lineage.load(a)
    g = lin.g
    pos = tree_layout((n, d["parent"]) for n, d in g.nodes(data=True))
    nodes, scores = [], []
    for n, d in g.nodes(data=True):
        x, y = pos.get(n, (0.0, d["depth"]))
        if d["score"] is not None:
            scores.append(d["score"])
        nodes.append({"id": n, "parent": d["parent"], "x": x, "y": y, "status": d["status"],
                      "score": d["score"], "summary": _short(d["summary"]),
                      "proposer": d["proposer"], "children": g.out_degree(n),
                      "tasks": d["eval_n"]})
    statuses: dict[str, int] = {}
    for node in nodes:
        statuses[node["status"]] = statuses.get(node["status"], 0) + 1
    return {"nodes": nodes, "best_path": lin.best_path(), "extra_edges": g.graph["extra_edges"],
            "score_range": [min(scores), max(scores)] if scores else [0.0, 1.0],
            "statuses": statuses, "width": max((p[0] for p in pos.values()), default=0) + 1,
            "levels": max((p[1] for p in pos.values()), default=0) + 1}


def progress(a: Archive) -> dict:
    """Per agent in creation order: score, status, best and mean of the archive so far.

    "Best" and "mean" count admitted agents (the archive parents are drawn
    from), as in the DGM paper's progress figures; ``on_best`` marks the
    lineage of the final best agent.
    """
    lin = Lineage.load(a)
    on_best = set(lin.best_path())
    points, best, total, n = [], None, 0.0, 0
    for i, (aid, d) in enumerate(lin.g.nodes(data=True)):
        s = d["score"]
        if d["status"] == "admitted" and s is not None:
            best = s if best is None else max(best, s)
            total, n = total + s, n + 1
        points.append({"i": i, "id": aid, "parent": d["parent"], "status": d["status"],
                       "score": s, "on_best": aid in on_best, "best": best,
                       "mean": total / n if n else None, "summary": _short(d["summary"], 100)})
    return {"points": points, "best_path": lin.best_path()}


def evaluation_groups(evals: list[dict]) -> list[dict]:
    """Per-task rows grouped by (suite, stage) with their aggregates."""
    groups: dict[tuple, dict] = {}
    for e in evals:
        g = groups.setdefault((e["suite"], e["stage"]), {"suite": e["suite"], "stage": e["stage"],
                                                          "tasks": []})
        g["tasks"].append(e)
    for g in groups.values():
        t = g["tasks"]
        g["n"] = len(t)
        g["mean"] = sum(e["score"] for e in t) / len(t)
        g["resolved"] = sum(1 for e in t if e["resolved"])
        g["seconds"] = sum(e["seconds"] or 0.0 for e in t)
    return sorted(groups.values(), key=lambda g: (g["suite"], g["stage"]))


def with_stage_records(groups: list[dict], artifacts: dict[str, str]) -> list[dict]:
    """Attach each stage's stage.json record (score ± SE, reference rows, beats) when it has one."""
    from dgm.engine.evaluation import stage_records
    recs = stage_records(artifacts)
    for g in groups:
        rec = recs.get((g["suite"], g["stage"]))
        if rec is not None:
            g["se"] = rec.get("se")
            g["references"] = rec.get("references")
            g["pools"] = rec.get("pools")
            g["compute"] = rec.get("compute")
    return groups


def agent(a: Archive, agent_id: str) -> dict:
    """Everything recorded about one agent (raises UnknownAgent)."""
    ag = a.agent(agent_id)
    kids = [{"id": r[0], "status": r[1], "score": r[2], "summary": _short(r[3], 100)} for r in a.query(
        "SELECT id, status, score, summary FROM agents WHERE parent=? ORDER BY seq", [ag.id])]
    lineage = [{"id": r[0], "score": r[1], "status": r[2]} for r in a.query(
        "WITH RECURSIVE up(id, parent, score, status, lvl) AS ("
        " SELECT id, parent, score, status, 0 FROM agents WHERE id=?"
        " UNION ALL SELECT g.id, g.parent, g.score, g.status, up.lvl + 1"
        " FROM agents g JOIN up ON g.id = up.parent)"
        " SELECT id, score, status FROM up WHERE lvl > 0 ORDER BY lvl DESC", [ag.id])]
    tcols = ("id", "kind", "run", "created", "text")
    transcripts = [dict(zip(tcols, r)) for r in a.query(
        f"SELECT {', '.join(tcols)} FROM transcripts WHERE agent=? ORDER BY id", [ag.id])]
    ucols = ("purpose", "model", "prompt_tokens", "completion_tokens", "cost", "created")
    usage = [dict(zip(ucols, r)) for r in a.query(
        f"SELECT {', '.join(ucols)} FROM usage WHERE agent=? ORDER BY id", [ag.id])]
    pcols = ("id", "proposer", "model", "summary", "reason", "cost", "created")
    rejected = [dict(zip(pcols, r)) for r in a.query(
        f"SELECT {', '.join(pcols)} FROM proposals WHERE parent=? AND status='rejected' "
        "ORDER BY id", [ag.id])]
    events = a.query("SELECT seq, ts, kind, data FROM events WHERE agent=? ORDER BY seq", [ag.id])
    sources = [{"id": src, "kind": kind} for src, kind in a.query(
        "SELECT src, kind FROM edges WHERE dst=? AND kind != 'parent' ORDER BY kind, src", [ag.id])]
    evals = a.evaluations(ag.id)
    arts = a.artifacts(ag.id)
    cost = _cost(a, agent=ag.id)
    return {
        "agent": {k: getattr(ag, k) for k in ("id", "seq", "commit", "parent", "run", "status",
                                              "reason", "proposer", "generation", "depth",
                                              "summary", "score", "created", "updated")},
        "terminal": ag.status in TERMINAL, "lineage": lineage, "children": kids, "sources": sources,
        "stages": with_stage_records(evaluation_groups(evals), arts),
        "proposals": a.proposals(agent_id=ag.id),
        "rejected_proposals": rejected, "transcripts": transcripts, "usage": usage,
        "artifacts": arts, "cost": cost,
        "events": [{"seq": s, "ts": ts, "kind": k, "data": d} for s, ts, k, d in events],
    }


def diff_lines(text: str, max_lines: int = MAX_DIFF_LINES) -> tuple[list[tuple[str, str]], bool]:
    """A unified diff as ``(css class, line)`` pairs; True when cut at ``max_lines``."""
    lines = text.splitlines()
    out = []
    for line in lines[:max_lines]:
        if line.startswith(("diff --git", "index ", "--- ", "+++ ", "new file", "deleted file",
                            "similarity", "rename ", "old mode", "new mode")):
            cls = "meta"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        else:
            cls = "ctx"
        out.append((cls, line))
    return out, len(lines) > max_lines


def files(a: Archive, agent_id: str) -> list[str]:
    return a.git.files(a.agent(agent_id).commit)


def read_file(a: Archive, agent_id: str, path: str) -> dict:
    """One file of an agent's code; binary files are reported, not decoded."""
    commit = a.agent(agent_id).commit
    if path not in set(a.git.files(commit)):
        raise NotFound(f"agent {agent_id} has no file {path!r}")
    data = a.git.read_file(commit, path)
    binary = b"\0" in data[:8192]
    text = None if binary else data[:MAX_FILE_BYTES].decode("utf-8", "replace")
    return {"path": path, "size": len(data), "binary": binary, "text": text,
            "truncated": not binary and len(data) > MAX_FILE_BYTES}


def clip(text: str | None, n: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    text = text or ""
    return (text, False) if len(text) <= n else (text[:n], True)
