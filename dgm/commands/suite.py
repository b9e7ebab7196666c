"""``dgm suite``: list benchmark suites, show their stages, print baselines, evaluate an agent."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer

from ..errors import ConfigError
from .common import cli_errors, console, err_console

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Benchmark suites: list them, show stages, print baselines, evaluate an agent.")


def _echo(line: str) -> None:
    err_console.print(line, highlight=False, soft_wrap=True, markup=False)


def _stage_index(suite, stage: Optional[str], default: int) -> int:
    if stage is None:
        return default
    names = [s.name for s in suite.stages]
    if stage in names:
        return names.index(stage)
    if stage.isdigit() and 1 <= int(stage) <= len(names):  # stages are numbered from 1
        return int(stage) - 1
    raise ConfigError(f"suite {suite.name} has no stage {stage!r}; its stages: "
                      + ", ".join(f"{i} ({n})" for i, n in enumerate(names, 1)))


@app.command("list")
@cli_errors
def list_suites() -> None:
    """The suites shipped with dgm and those installed packages declare (``dgm.suites``)."""
    from ..suites import known_suites, load_spec

    dirs = list(known_suites().values())
    if not dirs:
        console.print("no suites found under evaluators/", highlight=False)
    for d in dirs:
        spec = load_spec(str(d))
        stages = ", ".join(f"{s.name} (≥{s.threshold:g})" if i else s.name
                           for i, s in enumerate(spec.stages))
        console.print(f"[bold]{spec.name}[/]  {spec.domain}  stages: {stages}", highlight=False)
        if spec.description:
            console.print(f"  {spec.description}", highlight=False, markup=False)


@app.command()
@cli_errors
def check(name: str = typer.Argument(..., help="Suite directory (with a suite.toml), or a name")) -> None:
    """Validate a suite without running an agent: suite.toml, the scorer, make_suite.
    Exit 0 when it is fit to run, 1 with each problem on its own line otherwise."""
    from ..suites import check_suite

    suite, problems = check_suite(name)
    for line in problems:
        err_console.print(f"[bold red]problem:[/] {line}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    stages = ", ".join(st.name for st in suite.stages)
    console.print(f"ok: suite {suite.name} ({suite.spec.domain}) at {suite.spec.path}: "
                  f"{len(suite.stages)} stages ({stages}); try it on an agent with "
                  f"`dgm suite eval {suite.spec.path} AGENT_DIR --unsafe`", highlight=False)


@app.command()
@cli_errors
def show(name: str = typer.Argument(..., help="Suite name or path")) -> None:
    """A suite's stages: thresholds and parameters."""
    from ..suites import load_spec

    spec = load_spec(name)
    console.print(f"[bold]{spec.name}[/] ({spec.domain}, image {spec.image}, scorer {spec.scorer})",
                  highlight=False)
    console.print(f"limits: {spec.limits.model_dump()}", highlight=False, markup=False)
    for i, s in enumerate(spec.stages):
        console.print(f"stage {i + 1} {s.name}: threshold {s.threshold:g} on the previous stage",
                      highlight=False)
        console.print("  " + json.dumps(s.params, sort_keys=True), highlight=False, markup=False)


@app.command()
@cli_errors
def baselines(name: str = typer.Argument(..., help="Suite name or path"),
              stage: Optional[str] = typer.Option(None, "--stage", "-s",
                                                  help="Stage name or number, from 1 (default: the last)")) -> None:
    """Print the suite's reference baselines per task group (computed once, then cached)."""
    from ..suites import load_suite

    suite = load_suite(name)
    if not hasattr(suite, "baselines_table"):
        raise ConfigError(f"suite {suite.name} does not compute baselines")
    idx = _stage_index(suite, stage, len(suite.stages) - 1)
    console.print(suite.baselines_table(idx), highlight=False, markup=False, soft_wrap=True)


@app.command("eval")
@cli_errors
def evaluate(name: str = typer.Argument(..., help="Suite name or path"),
             agent: Path = typer.Argument(..., help="Agent directory (with agent.toml)"),
             stage: Optional[str] = typer.Option(None, "--stage", "-s",
                                                 help="Only this stage (default: stages in order, "
                                                      "while thresholds are met)"),
             seed: int = typer.Option(0, "--seed"),
             device: str = typer.Option("cpu", "--device", help="cpu or cuda"),
             sandbox: str = typer.Option("auto", "--sandbox", help="auto, docker or bwrap"),
             unsafe: bool = typer.Option(False, "--unsafe", help="Run agent code WITHOUT a sandbox"),
             json_out: Optional[Path] = typer.Option(None, "--json", help="Write per-task results here")
             ) -> None:
    """Evaluate one agent directory on a suite and print its score and artifacts."""
    from ..sandbox.select import choose_sandbox
    from ..suites import EvalContext, load_suite

    suite = load_suite(name)
    if not (agent / "agent.toml").is_file():
        raise ConfigError(f"{agent} is not an agent: it has no agent.toml")
    box = choose_sandbox("unsafe" if unsafe else sandbox, echo=_echo)
    todo = [_stage_index(suite, stage, 0)] if stage is not None else list(range(len(suite.stages)))
    records = []
    with tempfile.TemporaryDirectory(prefix="dgm-suite-eval-") as tmp, box:
        prev = None
        for i in todo:
            spec = suite.stages[i]
            if prev is not None and prev < spec.threshold:
                console.print(f"stop: {prev:.4f} is below stage {spec.name}'s threshold "
                              f"{spec.threshold:g}", highlight=False)
                break
            ctx = EvalContext(sandbox=box, workdir=Path(tmp) / f"stage{i}", seed=seed, device=device,
                              log=_echo)
            ctx.workdir.mkdir()
            start = time.monotonic()
            out = suite.evaluate(agent.resolve(), i, ctx)
            secs = time.monotonic() - start
            solved = sum(r.resolved for r in out.results)
            console.print(f"[bold]stage {i + 1} {spec.name}[/]: score {out.score:.4f}, resolved "
                          f"{solved}/{len(out.results)}, {secs:.1f} s", highlight=False)
            for art in ("summary.md", "diagnostics.md", "failure.txt"):
                if art in out.artifacts:
                    console.print(out.artifacts[art], highlight=False, markup=False, soft_wrap=True)
            records.append({"stage": spec.name, "score": out.score, "seconds": secs,
                            "results": [r.__dict__ for r in out.results]})
            prev = out.score
    if json_out:
        json_out.write_text(json.dumps(records, indent=1))
