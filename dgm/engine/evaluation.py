"""Staged evaluation: the stage plan, the gate, and the compute task for one stage.

The compute side (``evaluate_stage``) only *reads* the archive's git objects
to check the agent out; results go back to the scheduler, the only writer.
It runs in a thread here, or in a Ray worker (see executors.py).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from dgm.archive.gitstore import GitStore
from dgm.sandbox.base import Mount
from dgm.suites import EvalContext, StageOutcome, Suite, load_suite


@dataclass(frozen=True)
class StagePlan:
    """One step of an agent's evaluation: a suite's stage and the score needed to enter it."""

    suite: str
    stage: int  # 0-based within the suite
    name: str
    threshold: float
    locator: str = ""  # where workers load the suite from (its directory)


def make_plan(suites: list[Suite], max_stages: int | None = None) -> list[StagePlan]:
    plan = []
    for s in suites:
        for i, st in enumerate(s.stages[:max_stages]):
            plan.append(StagePlan(s.name, i, st.name, st.threshold if i else 0.0, str(s.spec.path)))
    return plan


def agent_score(stage_rows: Sequence[tuple[str, int, float, int]]) -> float | None:
    """The agent score from its recorded stages: ``(suite, stage, sum of task scores, tasks)``.

    The rule (docs/icl.md, "Agent score"): per suite, the mean over every task row
    of every stage the agent reached, i.e. the stages' scores weighted by their task
    counts; then the plain mean over suites. Suites whose later stages score new
    tasks (icl) count each task once. An agent gated out early is scored on the
    stages it ran. The archive stores this in ``agents.score``, which ``dgm show``,
    the viewer and selection all read.
    """
    per_suite: dict[str, list[float]] = {}
    for suite, _stage, total, n in stage_rows:
        acc = per_suite.setdefault(suite, [0.0, 0])
        acc[0] += float(total or 0.0)
        acc[1] += int(n or 0)
    means = [t / n for t, n in per_suite.values() if n]
    return sum(means) / len(means) if means else None


REFERENCE_ORDER = ("chance", "nn1", "centroid", "lda", "logreg")


def stage_records(artifacts: dict[str, str]) -> dict[tuple[str, int], dict]:
    """The ``stage.json`` artifacts of an agent (``{"suite/stage/name": text}``), parsed.

    Suites that write one (icl) record there the stage score with its standard
    error, the reference rows scored the same way, and per pool which references
    the agent beats; ``dgm show`` and the viewer display them beside the agent.
    Unreadable or oversized records are skipped.
    """
    import json
    out: dict[tuple[str, int], dict] = {}
    for key, text in artifacts.items():
        suite, _, rest = key.partition("/")
        stage, _, name = rest.partition("/")
        if name != "stage.json" or not stage.isdigit() or not text or len(text) > 1_000_000:
            continue
        try:
            rec = json.loads(text)
        except (ValueError, RecursionError):
            continue
        if isinstance(rec, dict):
            out[(suite, int(stage))] = rec
    return out


def next_step(plan: list[StagePlan], pos: int, last_score: float) -> int | None:
    """Index of the next stage to run after plan[pos] scored ``last_score``, or None.

    A later stage of the same suite is entered only when the previous stage
    reached its threshold; the first stage of the next suite always runs.
    """
    suite = plan[pos].suite
    i = pos + 1
    if i < len(plan) and plan[i].suite == suite:
        if last_score >= plan[i].threshold:
            return i
        while i < len(plan) and plan[i].suite == suite:  # gated out: skip the suite's rest
            i += 1
    return i if i < len(plan) else None


@dataclass
class StageTask:
    """Everything a worker needs to evaluate one stage of one agent (picklable)."""

    repo: str  # the archive's bare repository
    commit: str
    suite: str
    stage: int
    seed: int
    device: str = "cpu"
    sandbox: str = "auto"
    image: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    network: str | None = None
    mounts: list[tuple[str, str]] = field(default_factory=list)  # (host dir, target), read-only
    bundle: bytes | None = None  # a git bundle with the commit, when the repo is not local
    secret: str | None = None  # the archive's task salt (Archive.eval_secret); host-side only


class Runtime:
    """Per-process caches: the sandbox backend and loaded suites."""

    _lock = threading.Lock()
    _sandboxes: dict[str, Any] = {}  # kind -> a dgm.sandbox backend
    _suites: dict[str, Suite] = {}

    @classmethod
    def sandbox(cls, kind: str, image: str | None = None):
        with cls._lock:
            if kind not in cls._sandboxes:
                from dgm.sandbox.select import choose_sandbox
                cls._sandboxes[kind] = choose_sandbox(kind, image=image, echo=lambda line: None)
            return cls._sandboxes[kind]

    @classmethod
    def suite(cls, name: str) -> Suite:
        with cls._lock:
            if name not in cls._suites:
                cls._suites[name] = load_suite(name)
            return cls._suites[name]

    @classmethod
    def release(cls, kind: str, sandbox: Any) -> None:
        """Close ``sandbox`` and forget it, when it is the one cached for ``kind``: a run
        gives back the backend it chose, so the next run in the process chooses afresh."""
        with cls._lock:
            if cls._sandboxes.get(kind) is not sandbox:
                return
            del cls._sandboxes[kind]
        try:
            if sandbox is not None:
                sandbox.close()
        except Exception:  # closing is best effort: the run's results are already recorded
            pass

    @classmethod
    def close(cls) -> None:
        with cls._lock:
            for sb in cls._sandboxes.values():
                try:
                    sb.close()
                except Exception:
                    pass
            cls._sandboxes.clear()


def checkout(task: StageTask, dest: Path) -> Path:
    """Materialise the agent's commit (from the archive, or from a shipped bundle)."""
    if task.bundle is not None:
        from dgm.archive.bundles import materialize_from_bundle
        return materialize_from_bundle(task.bundle, task.commit, dest)
    return GitStore(Path(task.repo)).materialize(task.commit, dest)


def evaluate_stage(task: StageTask) -> StageOutcome:
    """Run one stage; infrastructure errors propagate (the scheduler marks the agent failed)."""
    work = Path(tempfile.mkdtemp(prefix="dgm-eval-"))
    try:
        agent_dir = checkout(task, work / "agent")
        suite = Runtime.suite(task.suite)
        ctx = EvalContext(sandbox=Runtime.sandbox(task.sandbox, task.image), workdir=work / "work",
                          seed=task.seed, device=task.device, image=task.image, env=dict(task.env),
                          network=task.network, mounts=[Mount(Path(src), dst) for src, dst in task.mounts],
                          secret=task.secret)
        ctx.workdir.mkdir()
        start = time.monotonic()
        outcome = suite.evaluate(agent_dir, task.stage, ctx)
        outcome.artifacts.setdefault("stage_seconds", f"{time.monotonic() - start:.2f}")
        return outcome
    finally:
        shutil.rmtree(work, ignore_errors=True)
