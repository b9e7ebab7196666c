"""``dgm suite``: list benchmark suites, show their stages, print baselines, evaluate an agent."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import typer

from dgm.errors import ConfigError
from dgm.cli.common import cli_errors, console, err_console

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Benchmark suites: list them, show stages, print baselines, evaluate an agent.")


def _echo(line: str) -> None:
    err_console.print(line, highlight=False, soft_wrap=True, markup=False)  # cleaned by SafeConsole


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
    from dgm.suites import known_suites, load_spec

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
    from dgm.suites import check_suite

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
    from dgm.suites import load_spec

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
    from dgm.suites import load_suite

    suite = load_suite(name)
    if not hasattr(suite, "baselines_table"):
        raise ConfigError(f"suite {suite.name} does not compute baselines")
    idx = _stage_index(suite, stage, len(suite.stages) - 1)
    console.print(suite.baselines_table(idx), highlight=False, markup=False, soft_wrap=True)


def check_device(device: str) -> None:
    """Refuse --device cuda in one line where this host has no CUDA device."""
    if device == "cpu":
        return
    if not (device == "cuda" or device.startswith("cuda:")):
        raise ConfigError(f"--device must be cpu or cuda[:N], not {device!r}")
    try:
        import torch
        ok = torch.cuda.is_available()
    except ImportError:
        ok = False
    if not ok:
        raise ConfigError(f"--device {device}: this host has no CUDA device (torch.cuda.is_available() "
                          "is false); run on a GPU machine, e.g. bench/gpu_icl.sh")


def _stage_stats(out) -> tuple[float, float]:
    """A stage's score and its standard error (from stage.json when the suite writes one)."""
    import math
    try:
        rec = json.loads(out.artifacts["stage.json"])
        return float(rec["score"]), float(rec["se"])
    except (KeyError, ValueError, TypeError):
        xs = [r.score for r in out.results]
        if len(xs) < 2:
            return out.score, 0.0
        m = sum(xs) / len(xs)
        return m, math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1) / len(xs))


def _mean_sd(xs: list[float]) -> tuple[float, float]:
    import statistics
    return (statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0) if xs else (0.0, 0.0)


def run_stages(suite, agent: Path, todo: list[int], box, tmp: Path, seed: int, device: str,
               verbose: bool) -> list[dict]:
    """Evaluate ``agent`` on the stages ``todo`` in order (gated); one record per stage run."""
    from dgm.suites import EvalContext
    records, prev = [], None
    for i in todo:
        spec = suite.stages[i]
        if prev is not None and prev < spec.threshold:
            console.print(f"stop: {prev:.4f} is below stage {spec.name}'s threshold "
                          f"{spec.threshold:g}", highlight=False)
            break
        ctx = EvalContext(sandbox=box, workdir=tmp / f"{agent.name}-seed{seed}-stage{i}", seed=seed,
                          device=device, log=_echo if verbose else (lambda line: None))
        ctx.workdir.mkdir(parents=True)
        start = time.monotonic()
        out = suite.evaluate(agent.resolve(), i, ctx)
        secs = time.monotonic() - start
        score, se = _stage_stats(out)
        solved = sum(r.resolved for r in out.results)
        console.print(f"[bold]stage {i + 1} {spec.name}[/] seed {seed}: score {score:.4f} ± {se:.4f} (SE), "
                      f"resolved {solved}/{len(out.results)}, {secs:.1f} s", highlight=False)
        if verbose:
            for art in ("summary.md", "diagnostics.md", "failure.txt"):
                if art in out.artifacts:
                    console.print(out.artifacts[art], highlight=False, markup=False, soft_wrap=True)
        elif "failure.txt" in out.artifacts:
            console.print(out.artifacts["failure.txt"].splitlines()[0], highlight=False, markup=False)
        records.append({"stage": spec.name, "index": i, "seed": seed, "score": score, "se": se,
                        "seconds": secs, "results": [r.__dict__ for r in out.results]})
        prev = score
    return records


def repeat_report(stages: list[str], mine: list[list[dict]], ref: list[list[dict]] | None,
                  ref_name: str | None) -> dict:
    """Mean and sd over seeds per stage and, with a reference agent, the paired comparison:
    per seed, the agent's stage score minus the reference's on the same tasks and seed."""
    out: dict = {"stages": {}}
    for name in stages:
        scores = [r["score"] for run in mine for r in run if r["stage"] == name]
        ses = [r["se"] for run in mine for r in run if r["stage"] == name]
        if not scores:
            continue
        m, sd = _mean_sd(scores)
        entry: dict[str, Any] = {"mean": m, "sd": sd, "runs": len(scores), "mean_task_se": _mean_sd(ses)[0]}
        line = (f"stage {name}: mean {m:.4f}, sd {sd:.4f} over {len(scores)} seeds "
                f"(task-sampling SE per run {entry['mean_task_se']:.4f})")
        if ref is not None:
            pairs = []
            for a_run, b_run in zip(mine, ref):
                a = next((r for r in a_run if r["stage"] == name), None)
                b = next((r for r in b_run if r["stage"] == name), None)
                if a is not None and b is not None:
                    pairs.append(a["score"] - b["score"])
            if pairs:
                dm, dsd = _mean_sd(pairs)
                se = dsd / len(pairs) ** 0.5 if len(pairs) > 1 else float("nan")
                t = dm / se if se and se == se and se > 0 else float("nan")
                entry["vs_reference"] = {"agent": ref_name, "mean_diff": dm, "sd_diff": dsd,
                                         "pairs": len(pairs), "t": t, "diffs": pairs}
                line += (f"; minus {ref_name}: {dm:+.4f} (sd {dsd:.4f}, {len(pairs)} paired seeds, "
                         f"t = {t:.2f})")
        console.print(line, highlight=False, markup=False)
        out["stages"][name] = entry
    return out


@app.command("eval")
@cli_errors
def evaluate(name: str = typer.Argument(..., help="Suite name or path"),
             agent: Path = typer.Argument(..., help="Agent directory (with agent.toml)"),
             stage: Optional[str] = typer.Option(None, "--stage", "-s",
                                                 help="Only this stage (default: stages in order, "
                                                      "while thresholds are met)"),
             seed: int = typer.Option(0, "--seed"),
             repeats: int = typer.Option(1, "--repeats", "-k", min=1,
                                         help="Meta-train seeds seed..seed+K-1; report mean and sd"),
             reference: Optional[Path] = typer.Option(None, "--reference",
                                                      help="A second agent run on the same seeds: "
                                                           "paired comparison"),
             device: str = typer.Option("cpu", "--device", help="cpu or cuda"),
             sandbox: str = typer.Option("auto", "--sandbox", help="auto, docker or bwrap"),
             unsafe: bool = typer.Option(False, "--unsafe", help="Run agent code WITHOUT a sandbox"),
             json_out: Optional[Path] = typer.Option(None, "--json", help="Write per-task results here")
             ) -> None:
    """Evaluate one agent directory on a suite and print its score and artifacts."""
    from dgm.sandbox.select import choose_sandbox
    from dgm.suites import load_suite

    check_device(device)
    suite = load_suite(name)
    for a in [agent] + ([reference] if reference else []):
        if not (a / "agent.toml").is_file():
            raise ConfigError(f"{a} is not an agent: it has no agent.toml")
    box = choose_sandbox("unsafe" if unsafe else sandbox, echo=_echo)
    todo = [_stage_index(suite, stage, 0)] if stage is not None else list(range(len(suite.stages)))
    verbose = repeats == 1 and reference is None
    with tempfile.TemporaryDirectory(prefix="dgm-suite-eval-") as tmp, box:
        mine: list[list[dict]] = []
        ref: list[list[dict]] | None = [] if reference else None
        for k in range(repeats):
            mine.append(run_stages(suite, agent, todo, box, Path(tmp) / "a", seed + k, device, verbose))
            if reference is not None and ref is not None:
                ref.append(run_stages(suite, reference, todo, box, Path(tmp) / "r", seed + k, device,
                                      False))
    summary = None
    if repeats > 1 or reference is not None:
        summary = repeat_report([suite.stages[i].name for i in todo], mine, ref,
                                str(reference) if reference else None)
    if json_out:
        records = mine[0] if repeats == 1 and reference is None else \
            {"runs": mine, "reference_runs": ref, "summary": summary}
        json_out.write_text(json.dumps(records, indent=1))
