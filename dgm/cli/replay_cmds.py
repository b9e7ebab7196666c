"""``dgm replay``: re-run an archived agent's evaluation and compare, or export its code."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from dgm.api import replay
from dgm.replay import export_agent
from dgm.cli.common import ArchiveOpt, cli_errors, console, open_archive


def register(app: typer.Typer) -> None:
    app.command(name="replay")(cli_errors(replay_cmd))


def replay_cmd(
    agent: str = typer.Argument(..., help="Agent id (or its number)"),
    archive: Optional[Path] = ArchiveOpt,
    suite: Optional[str] = typer.Option(None, "--suite", help="Only this suite"),
    stage: Optional[int] = typer.Option(None, "--stage", help="Only this stage (1-based)"),
    all_stages: bool = typer.Option(False, "--all-stages", help="Also stages never reached"),
    sandbox: str = typer.Option("auto", "--sandbox", help="auto | docker | bwrap"),
    unsafe: bool = typer.Option(False, "--unsafe", help="Run the agent WITHOUT a sandbox"),
    tolerance: Optional[float] = typer.Option(None, "--tolerance", help="Allowed |recorded - now| per task"),
    export: Optional[Path] = typer.Option(None, "--export", help="Write the agent's code to DIR instead"),
) -> None:
    """Re-run an agent's recorded evaluation; exit 0 when scores match, 1 when they differ."""
    with open_archive(archive) as a:
        aid, path = a.resolve_id(agent), a.path
        if export is not None:
            export_agent(a, aid, export)
            console.print(f"wrote agent {aid} to {export} (see {export}/DGM_AGENT.md)", highlight=False)
            return
    rows = replay(path, aid, suite=suite, stage=None if stage is None else stage - 1,
                  all_stages=all_stages, sandbox="unsafe" if unsafe else sandbox, tolerance=tolerance,
                  echo=lambda line: console.print(line, highlight=False))
    t = Table(title=f"replay of {aid}")
    for col in ("suite", "stage", "task", "recorded", "now", "Δ", ""):
        t.add_column(col, justify="right" if col in ("recorded", "now", "Δ") else "left")
    fmt = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
    for r in rows:
        delta = "-" if r.recorded is None or r.now is None else f"{r.now - r.recorded:+.4f}"
        t.add_row(r.suite, str(r.stage + 1), r.task, fmt(r.recorded), fmt(r.now), delta,
                  "[green]ok[/]" if r.matches else "[red]DIFFERS[/]")
    console.print(t)
    bad = [r for r in rows if not r.matches]
    if bad:
        console.print(f"[red]{len(bad)} of {len(rows)} task scores differ from the record[/]")
        raise typer.Exit(1)
    console.print(f"[green]all {len(rows)} task scores match the record[/]")
