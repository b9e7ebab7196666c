"""``dgm run``: start or resume an evolution run."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape

from dgm.api import Run
from dgm.errors import DgmError
from dgm.engine.progress import Reporter, make_reporter
from dgm.cli.common import cli_errors, console, default_archive, err_console


def register(app: typer.Typer) -> None:
    app.command()(cli_errors(run))


def run(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Run config (default: ./dgm.toml if present)"),
    archive: Optional[Path] = typer.Option(None, "--archive", "-a",
                                           help="Archive to create, or to resume when it exists"),
    resume: bool = typer.Option(False, "--resume", help="Resume the newest archive under archive/"),
    domain: Optional[str] = typer.Option(None, help="metalearning | coding"),
    seed_agent: Optional[Path] = typer.Option(None, "--seed-agent", help="Seed agent directory"),
    suite: Optional[List[str]] = typer.Option(None, "--suite", help="Suite name or path (repeatable)"),
    proposer: Optional[str] = typer.Option(None, help="mutation | llm | self"),
    selection: Optional[str] = typer.Option(None, help="dgm | score | greedy | random | hgm | weighted"),
    admission: Optional[str] = typer.Option(None, help="keep_all | keep_better"),
    children: Optional[int] = typer.Option(None, help="Budget: children to commit"),
    wall_time: Optional[float] = typer.Option(None, "--wall-time", help="Budget: seconds of wall time"),
    workers: Optional[int] = typer.Option(None, help="Jobs in parallel"),
    schedule: Optional[str] = typer.Option(None, help="async | generational"),
    generation_size: Optional[int] = typer.Option(None, "--generation-size", help="Children per generation"),
    seed: Optional[int] = typer.Option(None, help="Random seed"),
    sandbox: Optional[str] = typer.Option(None, help="auto | docker | bwrap"),
    unsafe: bool = typer.Option(False, "--unsafe", help="Run agent code WITHOUT a sandbox"),
    device: Optional[str] = typer.Option(None, help="cpu | cuda"),
    max_stages: Optional[int] = typer.Option(None, "--max-stages", help="Evaluate at most N stages per suite"),
    executor: Optional[str] = typer.Option(None, help="local | ray"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster address"),
    model_url: Optional[str] = typer.Option(None, "--model-url", help="OpenAI-compatible endpoint base URL"),
    budget_usd: Optional[float] = typer.Option(None, "--budget-usd", help="Model spending cap for the run, in dollars"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output"),
    as_json: bool = typer.Option(False, "--json", help="JSON lines on stdout"),
) -> None:
    """Start or resume an evolution run (no arguments: the offline default)."""
    if config is None and Path("dgm.toml").is_file():
        config = Path("dgm.toml")
    overrides = dict(domain=domain, seed_agent=seed_agent, suites=suite or None, proposer=proposer,
                     selection=selection, admission=admission, children=children,
                     wall_seconds=wall_time, workers=workers, schedule=schedule,
                     generation_size=generation_size, seed=seed, sandbox="unsafe" if unsafe else sandbox,
                     device=device, max_stages=max_stages, executor=executor, ray_address=ray_address)
    overrides["model.base_url"] = model_url
    overrides["model.budget_usd"] = budget_usd
    if resume and archive is None:
        archive = default_archive()
    shown: dict = {}

    def reporter(cfg):
        shown["reporter"] = make_reporter(cfg.children, quiet, as_json)
        return shown["reporter"]

    r = Run(config_file=config, archive=archive, overrides=overrides, unsafe=unsafe,
            reporter=reporter)
    interrupts = {"n": 0}

    def on_sigint(signum, frame):  # first Ctrl-C: finish in-flight work; second: stop now
        interrupts["n"] += 1
        if interrupts["n"] == 1:
            r.stop()
            (shown.get("reporter") or Reporter(0)).message("stopping: finishing the jobs in flight (Ctrl-C again to "
                                      "stop at once; unfinished work is re-run on resume)")
        else:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        summary = r.start_or_resume()
    except KeyboardInterrupt:
        console.print(f"\ninterrupted; resume with: dgm run --archive {r.archive_path}", highlight=False)
        os._exit(130)
    finally:
        signal.signal(signal.SIGINT, previous)
    if as_json:
        typer.echo(json.dumps({"event": "summary", **summary.as_dict()}))
        if summary.status == "stalled":
            raise typer.Exit(3)
        return
    if summary.status == "stalled":  # stopped short for a cause that persists: say it, fail
        err_console.print(escape(f"run {summary.reason}; fix the cause, then resume with: "
                                 f"dgm run --archive {summary.archive}"), highlight=False, soft_wrap=True)
        raise typer.Exit(3)
    if summary.status != "finished":
        hint = " --budget-usd MORE" if summary.status == "budget-spent" else ""
        console.print(f"run {summary.status}; resume with: dgm run --archive {summary.archive}{hint}",
                      highlight=False)
        if summary.best_id is None:
            return
    if summary.best_id is None:
        raise DgmError("no agent was admitted; see `dgm status` and `dgm show` for the reasons")
    gain = summary.gain
    console.print(
        f"\n[bold]best agent {summary.best_id}[/] score {summary.best_score:.3f}"
        + (f" (seed {summary.seed_id}: {summary.seed_score:.3f}, gain {gain:+.3f})" if gain is not None else "")
        + f"\n{summary.children} children, {summary.rejected} rejected, {summary.seconds:.0f} s\n"
        f"next: dgm tree -a {summary.archive}   dgm show {summary.best_id} -a {summary.archive}   "
        f"dgm diff {summary.best_id} -a {summary.archive}   dgm replay {summary.best_id} -a {summary.archive}",
        highlight=False)
