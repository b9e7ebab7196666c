"""Replaying an archived agent: re-run its recorded suites and stages with the
recorded seeds in the recorded image, and compare per-task scores.

Step-budgeted evaluations are deterministic, so scores must match exactly; a
suite can declare ``replay_tolerance`` in its suite.toml for evaluations that
are not (e.g. a model behind the agent), and ``--tolerance`` overrides it.
"""

from __future__ import annotations

import json
import shutil
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from dgm.agents import load_manifest
from dgm.archive.store import Archive
from dgm.errors import DgmError
from dgm.engine.evaluation import Runtime, StageTask, evaluate_stage
from dgm.archive.gitstore import GitError
from dgm.suites import load_suite

EXACT = 1e-9


@dataclass
class TaskComparison:
    suite: str
    stage: int
    task: str
    recorded: float | None
    now: float | None
    tolerance: float

    @property
    def matches(self) -> bool:
        if self.recorded is None or self.now is None:
            return self.recorded is None  # a task never recorded is new information, not a mismatch
        return abs(self.recorded - self.now) <= max(self.tolerance, EXACT)


def suite_locators(archive: Archive) -> dict[str, str]:
    """Suite name -> where to load it from, using every run's recorded config."""
    out: dict[str, str] = {}
    for (config,) in archive.query("SELECT config FROM runs"):
        for loc in json.loads(config or "{}").get("suites") or []:
            try:
                out.setdefault(load_suite(loc).name, loc)
            except DgmError:
                continue
    return out


def recorded_stages(archive: Archive, agent: str) -> list[tuple[str, int, int | None, str | None]]:
    """(suite, stage, seed, image) of every stage recorded for the agent."""
    return archive.query("SELECT suite, stage, MAX(seed), MAX(image) FROM evaluations WHERE agent=? "
                         "GROUP BY suite, stage ORDER BY MIN(id)", [agent])


def replay(archive: Archive, agent: str, *, suite: str | None = None, stage: int | None = None,
           all_stages: bool = False, sandbox: str = "auto", tolerance: float | None = None,
           device: str = "cpu", echo: Callable[[str], None] = print) -> list[TaskComparison]:
    """Re-evaluate ``agent`` and compare with what the archive recorded."""
    ag = archive.agent(agent)
    recorded = recorded_stages(archive, agent)
    locs = suite_locators(archive)
    if suite is not None:
        recorded = [r for r in recorded if r[0] == suite]
        if not recorded and suite not in locs:
            raise DgmError(f"agent {agent} has no recorded evaluation on suite {suite!r}")
    if not recorded and not all_stages:
        raise DgmError(f"agent {agent} has no recorded evaluation to replay (status {ag.status})")
    plan = [(s, st, seed, img) for s, st, seed, img in recorded]
    if all_stages:
        seen = {(s, st) for s, st, _, _ in plan}
        default_seed = plan[0][2] if plan else 0
        for name in ([suite] if suite else sorted({s for s, *_ in plan} or locs)):
            for i in range(len(load_suite(locs.get(name, name)).stages)):
                if (name, i) not in seen:
                    plan.append((name, i, default_seed, None))
    if stage is not None:
        plan = [p for p in plan if p[1] == stage - 1]
        if not plan:
            raise DgmError(f"agent {agent} has no recorded stage {stage}; use --all-stages")
    sb = Runtime.sandbox(sandbox)
    out: list[TaskComparison] = []
    for name, st, seed, image in plan:
        s = load_suite(locs.get(name, name))
        tol = tolerance if tolerance is not None else float((s.spec.model_extra or {}).get("replay_tolerance", 0.0))
        run_image = _pick_image(sb, image, echo)
        echo(f"replaying {agent} on {name} stage {st + 1} (seed {seed}, image {run_image or 'default'})")
        task = StageTask(repo=str(archive.git.path), commit=ag.commit_sha, suite=locs.get(name, name),
                         stage=st, seed=seed if seed is not None else 0, device=device,
                         sandbox=sandbox, image=run_image, secret=archive.eval_secret(create=False))
        outcome = evaluate_stage(task)
        now = {r.task_id: r.score for r in outcome.results}
        before = dict(archive.query("SELECT task, score FROM evaluations WHERE agent=? AND suite=? "
                                    "AND stage=?", [agent, name, st]))
        for t in sorted(before.keys() | now.keys()):
            out.append(TaskComparison(name, st, t, before.get(t), now.get(t), tol))
    return out


def _pick_image(sandbox, recorded: str | None, echo: Callable[[str], None]) -> str | None:
    """The recorded image when this backend still has it; otherwise the current one, with a warning."""
    if recorded is None:
        return None
    if getattr(sandbox, "name", "") == "docker":
        try:
            sandbox.client.images.get(recorded)
            return recorded
        except Exception:
            echo(f"warning: recorded image {recorded[:19]} is not in the image store; "
                 "replaying in the current image instead")
            return None
    current = getattr(sandbox, "digest", None)
    if current is not None and current != recorded:
        echo(f"warning: recorded with {recorded[:24]}, now running in {current[:24]}: "
             "the sandbox's software differs")
    return None


def export_agent(archive: Archive, agent: str, dest: Path) -> Path:
    """Write the agent's code as a standalone directory with a README on running it."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise DgmError(f"{dest} exists and is not empty; choose a new directory")
    ag = archive.agent(agent)
    made = not dest.exists()
    try:
        archive.materialize(agent, dest)
        manifest = load_manifest(dest)
    except (ValueError, GitError, DgmError) as exc:  # e.g. a link out of the agent: write nothing
        if made:
            shutil.rmtree(dest, ignore_errors=True)
        else:  # it was an empty directory: empty it again
            for p in dest.iterdir():
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink()
        raise DgmError(f"cannot export agent {agent}: {str(exc)[:500]}") from None
    lineage = " → ".join(reversed([agent, *archive.ancestors(agent)]))
    cmds = "\n".join(f"    {name}: {' '.join(argv)}" for name, argv in manifest.commands.items())
    (dest / "DGM_AGENT.md").write_text(f"""# dgm agent {agent}

Exported from the archive at `{archive.path}` (commit `{ag.commit_sha}`).

- name: {manifest.name}, domain: {manifest.domain}
- score: {ag.score if ag.score is not None else '-'} ({ag.status})
- lineage: {lineage}
- change: {ag.summary or ''}

## Running it

The agent's commands (from `agent.toml`; paths like `/agent/...` refer to this
directory when it is mounted at `/agent`, as dgm's sandboxes do):

{cmds}

To evaluate it as dgm does, put it back in an archive and replay it:

    dgm init --archive /tmp/a --seed {dest}
    dgm replay 1 --archive /tmp/a --all-stages

or run its suite's harness by hand (see `docs/` of dgm for each suite's contract).
""")
    return dest


class _CallableModule(types.ModuleType):
    """``dgm.replay`` names both this module and the public function :func:`dgm.api.replay`.
    A package attribute cannot be both (importing the module would replace the function), so
    the module itself is callable: ``dgm.replay(archive, agent, ...)``."""

    def __call__(self, *args, **kwargs):
        from dgm.api import replay as replay_archive
        return replay_archive(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
