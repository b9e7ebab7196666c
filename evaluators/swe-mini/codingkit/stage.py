"""What both coding suites share around one stage: settings, task selection,
running the agent on every task, and turning results into a StageOutcome.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dgm.agents import load_manifest
from dgm.errors import ConfigError
from dgm.suites import EvalContext, StageOutcome, SuiteSpec, TaskResult

from .agentrun import AgentRun, run_agent


class AgentSettings(BaseModel):
    """``[agent]`` in suite.toml: how the agent is run (its time limit is ``[limits]``)."""

    model_config = ConfigDict(extra="forbid")
    concurrency: int = Field(1, ge=1, le=64)      # tasks solved at the same time
    max_patch_bytes: int = Field(1_000_000, ge=1_000)


class GradingSettings(BaseModel):
    """``[grading]`` in suite.toml: the sandboxed grading calls."""

    model_config = ConfigDict(extra="forbid")
    seconds_per_task: float = Field(60.0, gt=0)
    workers: int = Field(2, ge=1, le=64)          # grading calls / checks at the same time
    batch_size: int = Field(200, ge=1)            # tasks per sandboxed call, where a suite batches
    memory_mb: int = Field(2048, ge=64)


def settings(spec: SuiteSpec) -> tuple[AgentSettings, GradingSettings]:
    extra = spec.model_extra or {}
    try:
        return (AgentSettings.model_validate(extra.get("agent", {})),
                GradingSettings.model_validate(extra.get("grading", {})))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{spec.path / 'suite.toml'}: {key}: {first['msg']}") from None


def stage_ids(spec: SuiteSpec, stage: int, all_ids: list[str]) -> list[str]:
    """Task ids of a stage: ``tasks = [...]``, or ``select = "all"`` / ``"rest"``.

    "rest" is every task no earlier stage lists, so stages can be disjoint as in DGM.
    """
    if not 0 <= stage < len(spec.stages):
        raise ConfigError(f"suite {spec.name} has stages 0..{len(spec.stages) - 1}, not {stage}")
    params = spec.stages[stage].params
    where = f"{spec.path / 'suite.toml'}: stage {spec.stages[stage].name!r}"
    if "tasks" in params:
        ids = [str(t) for t in params["tasks"]]
        unknown = sorted(set(ids) - set(all_ids))
        if unknown:
            raise ConfigError(f"{where}: unknown task ids {', '.join(unknown)}")
        return ids
    select = params.get("select")
    if select == "all":
        return list(all_ids)
    if select == "rest":
        earlier = {t for s in range(stage) for t in stage_ids(spec, s, all_ids)}
        return [t for t in all_ids if t not in earlier]
    raise ConfigError(f"{where}: params need tasks = [...] or select = \"all\" | \"rest\"")


@dataclass
class CodingTask:
    """One task as the agent sees it: an id, a problem statement and a way to build its repo."""

    task_id: str
    problem: str
    build_testbed: Callable[[Path], object]
    image: str | None = None   # the task's own environment image (swe-bench's spec table), if any


@dataclass
class Graded:
    """A grading verdict plus what a proposer should read when it failed."""

    resolved: bool
    summary: str
    details: str = ""        # test output tail etc.
    seconds: float = 0.0


def run_agents(tasks: list[CodingTask], agent_dir: Path, spec: SuiteSpec, ctx: EvalContext,
               root: Path) -> dict[str, AgentRun] | str:
    """Run the agent on every task; a string instead means the agent cannot be run at all."""
    try:
        manifest = load_manifest(agent_dir)
    except ConfigError as exc:
        return str(exc)
    solve = manifest.commands.get("solve")
    if not solve:
        return f"agent {manifest.name!r} has no [commands].solve (domain {manifest.domain})"
    agent_cfg, _ = settings(spec)
    limits = spec.limits.to_limits()
    image = ctx.image or spec.image

    def one(task: CodingTask) -> AgentRun:
        taskdir = root / "agent" / task.task_id
        if taskdir.exists():
            shutil.rmtree(taskdir)
        testbed = taskdir / "testbed"
        task.build_testbed(testbed)
        return run_agent(task_id=task.task_id, solve=solve, agent_dir=Path(agent_dir).resolve(),
                         testbed=testbed, problem_text=task.problem, taskdir=taskdir,
                         sandbox=ctx.sandbox, image=task.image or image, limits=limits, env=ctx.env,
                         network=ctx.network, max_patch_bytes=agent_cfg.max_patch_bytes, log=ctx.log,
                         extra_mounts=ctx.mounts)

    with ThreadPoolExecutor(max_workers=agent_cfg.concurrency) as pool:
        runs = list(pool.map(one, tasks))
    return {r.task_id: r for r in runs}


def _cap(text: str, n: int) -> str:
    return text if len(text) <= n else f"[... {len(text) - n} chars cut ...]\n" + text[-n:]


def outcome(ids: list[str], runs: dict[str, AgentRun] | str, graded: dict[str, Graded],
            problems: dict[str, str], suite: str) -> StageOutcome:
    """Per-task results plus artifacts: a summary and one failure report per unresolved task."""
    results: list[TaskResult] = []
    artifacts: dict[str, str] = {}
    lists: dict[str, list[str]] = {"resolved": [], "unresolved": [], "empty_patch": []}
    for tid in ids:
        run = runs.get(tid) if isinstance(runs, dict) else None
        g = graded.get(tid)
        resolved = bool(g and g.resolved)
        lines = [run.describe() if run else f"agent not run: {runs}"]
        if g:
            lines.append(g.summary)
        elif run and run.problem:
            lines.append("not graded: " + run.problem)
        log = "\n".join(lines)
        if g and g.details and not resolved:
            log += "\n" + _cap(g.details, 4000)
        seconds = (run.seconds if run else 0.0) + (g.seconds if g else 0.0)
        results.append(TaskResult(tid, 1.0 if resolved else 0.0, resolved, round(seconds, 3), log))
        lists["resolved" if resolved else "unresolved"].append(tid)
        if run and not run.patch.strip() and not run.problem:
            lists["empty_patch"].append(tid)
        if not resolved:
            artifacts[artifact_name(tid)] = _failure_report(tid, run, g, problems.get(tid, ""), runs)
    n = len(ids)
    summary = [f"# {suite}: {len(lists['resolved'])}/{n} resolved", ""]
    for key, vals in lists.items():
        summary.append(f"- {key} ({len(vals)}): {', '.join(vals) or '-'}")
    artifacts["summary.md"] = "\n".join(summary) + "\n"
    digests = [r.image_digest for r in runs.values() if r.image_digest] if isinstance(runs, dict) else []
    return StageOutcome(results, artifacts, image_digest=digests[0] if digests else None)


def artifact_name(task_id: str) -> str:
    """The failure report's artifact name: the task id made safe as a file name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in task_id) + ".md"


def _failure_report(tid: str, run: AgentRun | None, g: Graded | None, problem: str,
                    runs: dict[str, AgentRun] | str) -> str:
    out = [f"# {tid}: unresolved", "", "## Problem statement (head)", problem[:1500], ""]
    if run is None:
        out += ["## Agent", f"not run: {runs}"]
        return "\n".join(out) + "\n"
    out += ["## Agent", run.describe(), ""]
    if run.transcript_tail:
        out += ["## Transcript (tail)", run.transcript_tail, ""]
    if run.stdout_tail.strip():
        out += ["## Agent stdout (tail)", run.stdout_tail, ""]
    if run.stderr_tail.strip():
        out += ["## Agent stderr (tail)", run.stderr_tail, ""]
    out += ["## Patch", _cap(run.patch, 4000) if run.patch.strip() else "(empty)", ""]
    if g:
        out += ["## Grading", g.summary, "", _cap(g.details, 4000)]
    return "\n".join(out) + "\n"
