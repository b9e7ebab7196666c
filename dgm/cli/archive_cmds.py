"""Archive commands: init, status, tree, show, diff, export, check."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.tree import Tree

from dgm.agents import check_agent_dir, load_manifest
from dgm.archive.store import Archive
from dgm.archive.view import spend
from dgm.archive.lineage import Lineage
from dgm.archive.staging import staged
from dgm.suites import tampering
from dgm.termsafe import for_terminal
from dgm.termsafe import markup as escape
from dgm.cli.common import ArchiveOpt, cli_errors, console, fail, new_archive_path, open_archive

MARKS = {"admitted": "[green]✓[/]", "rejected": "[red]✗[/]", "failed": "[red]![/]",
         "evaluating": "[yellow]…[/]", "proposed": "[dim]?[/]", "duplicate": "[yellow]=[/]"}


def fmt_score(score: float | None) -> str:
    return "-" if score is None else f"{score:.3f}"


def register(app: typer.Typer) -> None:
    for fn in (init, status, tree, show, diff, export, check):
        app.command()(cli_errors(fn))


def init(archive: Optional[Path] = ArchiveOpt,
         seed: Optional[Path] = typer.Option(None, "--seed",
                                             help="Seed agent directory, e.g. agents/metalearner")) -> None:
    """Create a new archive (optionally with a seed agent)."""
    if seed is not None:
        load_manifest(seed)  # a seed without agent.toml is refused before anything is written
        check_agent_dir(seed)
    path = Path(archive or new_archive_path())
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        Archive.create(path)  # says why (holds an archive, not empty, not a directory)
    with staged(path) as staging, Archive.create(staging) as a:  # renamed into place when done
        msg = f"created archive {path}"
        if seed is not None:
            agent_id = a.add_seed(seed, summary=f"seed agent from {seed}")
            msg += f" with seed agent {agent_id} ({seed})"
    console.print(msg, highlight=False, markup=False)


def status(archive: Optional[Path] = ArchiveOpt) -> None:
    """Counts by status, runs, best agent and cost."""
    with open_archive(archive) as a:
        counts = Counter(r[0] for r in a.query("SELECT status FROM agents"))
        console.print(f"archive [bold]{a.path}[/]: {a.count()} agents", highlight=False)
        console.print("  " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "(empty)"))
        for rid, st, created, finished in a.query(
                "SELECT id, status, created, finished FROM runs ORDER BY created"):
            why = ""
            if st == "stalled":  # say why, as the run did when it stopped
                rows = a.query("SELECT data FROM events WHERE run=? AND kind='run_stalled' "
                               "ORDER BY seq DESC LIMIT 1", [rid])
                why = f" ({json.loads(rows[0][0]).get('reason', '')})" if rows else ""
            console.print(f"  run {escape(rid)}: {escape(st + why)}", highlight=False)
        best = a.best(1)
        if best:
            b = best[0]
            console.print(f"  best: {b.id} score {fmt_score(b.score)}  {escape(b.summary or '')}",
                          highlight=False)
        spent = spend(a)  # the gateway's ledger, each call once
        rejected = a.query("SELECT COUNT(*) FROM proposals WHERE status='rejected'")[0][0]
        console.print(f"  proposals rejected: {rejected}; model tokens {spent.tokens}, "
                      f"cost ${spent.cost:.4f} over {spent.calls} calls")


def tree(archive: Optional[Path] = ArchiveOpt,
         max_depth: Optional[int] = typer.Option(None, "--max-depth", help="Deepest level shown"),
         best_path: bool = typer.Option(False, "--best-path", help="Show only the path to the best agent"),
         min_score: Optional[float] = typer.Option(None, "--min-score", help="Hide agents scoring below X")) -> None:
    """The lineage tree with scores and status marks (best path in bold)."""
    with open_archive(archive) as a:
        lin = Lineage.load(a)
    if len(lin) == 0:
        console.print("(empty archive)")
        return
    best = set(lin.best_path())
    shown = set(lin.g.nodes)
    if best_path:
        shown = best
    if min_score is not None:
        keep = {n for n in shown if (lin.node(n)["score"] or 0) >= min_score}
        shown = {m for n in keep for m in lin.path_to_root(n)} & shown  # keep ancestors for structure

    def label(n: str) -> str:
        d = lin.node(n)
        text = (f"{MARKS.get(d['status'], '')} {n} {fmt_score(d['score'])} "
                f"[dim]{escape((d['summary'] or '')[:70])}[/]")
        return f"[bold]{text}[/]" if n in best else text

    for root in lin.roots():
        if root not in shown:
            continue
        t = Tree(label(root))
        stack = [(root, t, 0)]
        while stack:
            n, node, depth = stack.pop()
            if max_depth is not None and depth >= max_depth:
                continue
            for c in reversed(lin.children(n)):
                if c in shown:
                    stack.append((c, node.add(label(c)), depth + 1))
        console.print(t)


def show(agent: str = typer.Argument(..., help="Agent id (or its number)"),
         archive: Optional[Path] = ArchiveOpt) -> None:
    """Everything recorded about one agent."""
    with open_archive(archive) as a:
        aid = a.resolve_id(agent)
        ag = a.agent(aid)
        t = Table.grid(padding=(0, 2))
        for k, v in (("id", ag.id), ("commit", ag.commit_sha), ("parent", ag.parent or "-"),
                     ("status", ag.status + (f" ({ag.reason})" if ag.reason else "")),
                     ("proposer", ag.proposer), ("generation", ag.generation), ("depth", ag.depth),
                     ("score", fmt_score(ag.score)), ("summary", ag.summary or ""),
                     ("children", ", ".join(a.children(aid)) or "-")):
            t.add_row(f"[bold]{k}[/]", escape(str(v)))
        console.print(t)
        evals = a.evaluations(aid)
        if evals:
            et = Table(title="evaluations")
            for col in ("suite", "stage", "tasks", "mean score", "resolved"):
                et.add_column(col)
            groups: dict[tuple, list] = {}
            for e in evals:
                groups.setdefault((e["suite"], e["stage"]), []).append(e)
            for (suite, stage), rows in groups.items():
                et.add_row(suite, str(stage + 1), str(len(rows)),  # stages count from 1
                           f"{sum(r['score'] for r in rows) / len(rows):.3f}",
                           str(sum(r["resolved"] for r in rows)))
            console.print(et)
            for e in evals:
                if why := tampering(e["log"]):
                    console.print(f"[bold red]tampering[/] {escape(e['suite'])} stage {e['stage']} "
                                  f"{escape(e['task'])}: {escape(why[:300])}", highlight=False)
        for p in a.proposals(agent_id=aid):
            if p["model"] or p["cost"]:
                console.print(f"proposal: model {p['model']}, tokens {p['prompt_tokens']}+"
                              f"{p['completion_tokens']}, cost ${p['cost']:.4f}", highlight=False)
            if p["diagnosis"]:
                console.print("[bold]diagnosis[/]\n" + escape(p["diagnosis"]))
        arts = a.artifacts(aid)
        _print_references(arts)
        if arts:
            console.print("artifacts: " + escape(", ".join(arts)), highlight=False)


def _print_references(arts: dict[str, str]) -> None:
    """Per stage with a stage.json: the agent's score ± SE beside the reference rows."""
    from dgm.engine.evaluation import REFERENCE_ORDER, stage_records
    recs = stage_records(arts)
    if not recs:
        return
    rt = Table(title="score beside the reference rows (same formula, same tasks)")
    for col in ("suite", "stage", "agent ± SE", *REFERENCE_ORDER, "beats, per pool"):
        rt.add_column(col)
    for (suite, stage), rec in sorted(recs.items()):
        refs = rec.get("references") or {}
        cells = []
        for r in REFERENCE_ORDER:
            v = refs.get(r, {}).get("score") if isinstance(refs.get(r), dict) else None
            cells.append(f"{v:.3f}" if isinstance(v, (int, float)) else "-")
        pools = rec.get("pools") or {}
        beats = "; ".join(f"{p}: {', '.join(map(str, e.get('beats') or [])) or 'none'}"
                          for p, e in pools.items() if isinstance(e, dict))
        score, se = rec.get("score"), rec.get("se")
        agent = f"{score:.3f} ± {se:.3f}" if isinstance(score, (int, float)) and isinstance(se, (int, float)) \
            else "-"
        if rec.get("failure"):
            agent, beats = "failed", str(rec["failure"])[:120]
        rt.add_row(escape(suite), str(stage), agent, *cells, escape(beats))
    console.print(rt)


def diff(agent: str = typer.Argument(..., help="Agent id"),
         other: Optional[str] = typer.Argument(None, help="Compare against this agent (default: its parent)"),
         archive: Optional[Path] = ArchiveOpt) -> None:
    """The code change of an agent against its parent (or against another agent)."""
    with open_archive(archive) as a:
        aid = a.resolve_id(agent)
        against = a.resolve_id(other) if other else None
        text = a.diff(aid, against)
    typer.echo(for_terminal(text, sys.stdout), nl=False)


def export(fmt: str = typer.Option("json", "--format", "-f", help="json | graphml | dot"),
           out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output file (default: stdout)"),
           archive: Optional[Path] = ArchiveOpt) -> None:
    """Export the lineage graph as node-link JSON, GraphML or DOT."""
    with open_archive(archive) as a:
        text = Lineage.load(a).export(fmt, out)
    if out is None:
        typer.echo(text, nl=False)
    else:
        console.print(f"wrote {out}", highlight=False)


def check(archive: Optional[Path] = ArchiveOpt) -> None:
    """Verify refs, commits, rows and parent edges agree; exits 1 on any problem."""
    with open_archive(archive) as a:
        problems = a.check()
        n = a.count()
    for p in problems:
        console.print(f"[red]problem:[/] {escape(p)}")
    if problems:
        fail(f"{len(problems)} problem(s) in {n} agents", code=1)
    console.print(f"ok: {n} agents, every row has its ref and commit, parents match")
