"""Viewing commands: ``dgm serve`` (read-only web viewer) and ``dgm plot`` (PNG figures)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dgm.cli.common import ArchiveOpt, cli_errors, console, open_archive


def register(app: typer.Typer) -> None:
    app.command("serve")(cli_errors(serve))
    app.command("plot")(cli_errors(plot))


def serve(archive: Optional[Path] = ArchiveOpt,
          host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on"),
          port: int = typer.Option(8765, "--port", "-p", min=0, max=65535,
                                   help="Port (0 picks a free one)"),
          poll: float = typer.Option(3.0, "--poll", min=0.0,
                                     help="Seconds between the pages' live checks (0: off)")) -> None:
    """Read-only web viewer: lineage tree, agent pages, run overview, JSON API under /api.

    It opens the archive read-only, so it can follow a loop that is writing it.
    """
    from dgm.web.server import serve as run_server

    with open_archive(archive, readonly=True) as a:
        run_server(a, host, port, poll, announce=lambda m: console.print(m, highlight=False,
                                                                        soft_wrap=True))


def plot(archive: Optional[Path] = ArchiveOpt,
         out: Optional[Path] = typer.Option(None, "--out", "-o",
                                            help="Output directory (default: ARCHIVE/plots)")) -> None:
    """PNG figures: progress.png (score per agent, best lineage) and tree.png (archive tree)."""
    from dgm.web.plots import plot_all

    with open_archive(archive, readonly=True) as a:
        paths = plot_all(a, out if out is not None else a.path / "plots")
    for p in paths:
        console.print(f"wrote {p}", highlight=False)
