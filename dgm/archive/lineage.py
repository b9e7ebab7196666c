"""Lineage views of an archive on networkx: ancestry, clades, best paths, exports.

The graph's nodes are agents (attributes from the agents table plus per-agent
evaluation aggregates); its edges are lineage parent -> child. Transplant and
inspiration edges are kept in ``graph.graph["extra_edges"]``.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any, Iterable

import networkx as nx

NODE_COLS = ("id", "parent", "status", "score", "depth", "generation", "proposer", "summary",
             "created", "reason")
ATTRS = NODE_COLS + ("eval_sum", "eval_n", "eval_pass")


class Lineage:
    """A read-only snapshot of the archive's tree."""

    def __init__(self, graph: nx.DiGraph):
        self.g = graph

    @classmethod
    def load(cls, archive: Any) -> "Lineage":
        """Build the graph from SQLite: the agents with their evaluation totals, one query.

        The totals are kept per agent as results are recorded (agent_evals), so
        nothing is aggregated here. The graph's dicts are filled directly
        (networkx's documented dict-of-dicts layout): add_nodes_from and
        add_edges_from cost about twice as much at 100k agents, and the cyclic
        garbage collector is held off while the 400k dicts are made, since
        none of them can be garbage yet (docs/benchmarks/archive.md).
        """
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            rows = archive.agents_with_results(NODE_COLS)
            # spelled out: a dict display is a third faster than dict(zip(ATTRS, r)) here
            nodes = {r[0]: {"id": r[0], "parent": r[1], "status": r[2], "score": r[3],
                            "depth": r[4], "generation": r[5], "proposer": r[6],
                            "summary": r[7], "created": r[8], "reason": r[9],
                            "eval_sum": r[10], "eval_n": r[11], "eval_pass": r[12]}
                     for r in rows}
            succ: dict[str, dict] = {n: {} for n in nodes}
            pred: dict[str, dict] = {}
            edge: dict  # the edge data, shared by succ and pred
            for r in rows:
                child, parent = r[0], r[1]
                if parent in succ:  # one edge-data dict for both directions, as networkx does
                    succ[parent][child] = edge = {}
                    pred[child] = {parent: edge}
                else:
                    pred[child] = {}
            del rows  # freed before the collector runs again: it need not scan them
            g = nx.DiGraph()
            g._node.update(nodes)
            g._succ.update(succ)
            g._pred.update(pred)
        finally:
            if gc_was_on:
                gc.enable()
        g.graph["extra_edges"] = [
            {"src": s, "dst": d, "kind": k} for s, d, k in archive.query(
                "SELECT src, dst, kind FROM edges WHERE kind != 'parent'")]
        return cls(g)

    # -- structure -----------------------------------------------------------
    def __len__(self) -> int:
        return self.g.number_of_nodes()

    def node(self, agent_id: str) -> dict:
        return self.g.nodes[agent_id]

    def roots(self) -> list[str]:
        return [n for n in self.g if self.g.in_degree(n) == 0]

    def parent(self, agent_id: str) -> str | None:
        preds = list(self.g.predecessors(agent_id))
        return preds[0] if preds else None

    def path_to_root(self, agent_id: str) -> list[str]:
        """[agent, parent, ..., root]."""
        path = [agent_id]
        while (p := self.parent(path[-1])) is not None:
            path.append(p)
        return path

    def ancestors(self, agent_id: str) -> list[str]:
        return self.path_to_root(agent_id)[1:]

    def descendants(self, agent_id: str) -> set[str]:
        return nx.descendants(self.g, agent_id)

    def children(self, agent_id: str, statuses: Iterable[str] | None = None) -> list[str]:
        kids = list(self.g.successors(agent_id))
        if statuses is not None:
            allowed = set(statuses)
            kids = [k for k in kids if self.g.nodes[k]["status"] in allowed]
        return kids

    def children_counts(self, statuses: Iterable[str] | None = None) -> dict[str, int]:
        allowed = set(statuses) if statuses is not None else None
        counts = {n: 0 for n in self.g}
        for parent, child in self.g.edges:
            if allowed is None or self.g.nodes[child]["status"] in allowed:
                counts[parent] += 1
        return counts

    def depth(self, agent_id: str) -> int:
        return len(self.path_to_root(agent_id)) - 1

    # -- scores --------------------------------------------------------------
    def scored(self, statuses: Iterable[str] | None = ("admitted",)) -> list[str]:
        allowed = set(statuses) if statuses is not None else None
        return [n for n, d in self.g.nodes(data=True) if d["score"] is not None
                and (allowed is None or d["status"] in allowed)]

    def best(self, statuses: Iterable[str] | None = ("admitted",)) -> str | None:
        """Highest-scoring agent (earliest on ties), or None. One pass, no list."""
        allowed = set(statuses) if statuses is not None else None
        best, top = None, None
        for n, d in self.g._node.items():
            s = d["score"]
            if s is None or (allowed is not None and d["status"] not in allowed):
                continue
            if top is None or s > top or (s == top and best is not None and int(n) < int(best)):
                best, top = n, s
        return best

    def best_path(self, statuses: Iterable[str] | None = ("admitted",)) -> list[str]:
        """Root -> best agent."""
        best = self.best(statuses)
        return list(reversed(self.path_to_root(best))) if best else []

    def clade(self, agent_id: str) -> dict[str, float]:
        """Pooled per-task results of an agent and all its descendants (HGM's clade)."""
        members = {agent_id} | self.descendants(agent_id)
        s = sum(self.g.nodes[m]["eval_sum"] for m in members)
        n = sum(self.g.nodes[m]["eval_n"] for m in members)
        p = sum(self.g.nodes[m]["eval_pass"] for m in members)
        return {"members": len(members), "tasks": n, "score_sum": s, "passes": p,
                "fails": n - p, "mean": s / n if n else None}

    def clades(self) -> dict[str, dict[str, float]]:
        """clade() for every node in one bottom-up pass."""
        out: dict[str, dict[str, float]] = {}
        for n in reversed(list(nx.topological_sort(self.g))):
            d = self.g.nodes[n]
            acc = {"members": 1, "tasks": d["eval_n"], "score_sum": d["eval_sum"],
                   "passes": d["eval_pass"]}
            for c in self.g.successors(n):
                for k in acc:
                    acc[k] += out[c][k]
            acc["fails"] = acc["tasks"] - acc["passes"]
            acc["mean"] = acc["score_sum"] / acc["tasks"] if acc["tasks"] else None
            out[n] = acc
        return out

    # -- exports -------------------------------------------------------------
    def to_json(self) -> str:
        data = nx.node_link_data(self.g, edges="links")
        return json.dumps(data, indent=1, default=str)

    def to_graphml(self) -> str:
        h = nx.DiGraph()
        for n, d in self.g.nodes(data=True):
            h.add_node(n, **{k: v for k, v in d.items() if v is not None})
        h.add_edges_from(self.g.edges)
        return "\n".join(nx.generate_graphml(h))

    def to_dot(self) -> str:
        best = set(self.best_path())
        lines = ["digraph dgm {", '  node [shape=box, fontname="Helvetica"];']
        for n, d in self.g.nodes(data=True):
            score = "-" if d["score"] is None else f"{d['score']:.3f}"
            label = f"{n}\\n{d['status']} {score}"
            style = ', style=bold, color="#c0392b"' if n in best else ""
            lines.append(f'  "{n}" [label="{label}"{style}];')
        for a, b in self.g.edges:
            lines.append(f'  "{a}" -> "{b}";')
        for e in self.g.graph.get("extra_edges", []):
            lines.append(f'  "{e["src"]}" -> "{e["dst"]}" [style=dashed, label="{e["kind"]}"];')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def export(self, fmt: str, out: Path | None = None) -> str:
        writers = {"json": self.to_json, "graphml": self.to_graphml, "dot": self.to_dot}
        if fmt not in writers:
            from dgm.errors import DgmError
            raise DgmError(f"unknown export format {fmt!r}; use one of {', '.join(writers)}")
        text = writers[fmt]()
        if out is not None:
            Path(out).write_text(text)
        return text
