"""swe-mini: SWE-bench-shaped tasks on small Python repositories we wrote ourselves.

Host side, trusted. ``make_suite(spec)`` returns the Suite; ``grade`` and
``grade_many`` grade patches without any agent (gold, empty, hostile ones).
Layout and contract: docs/coding-suites.md.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

from dgm.suites import EvalContext, StageOutcome, Suite, SuiteSpec, TaskResult

HERE = Path(__file__).resolve().parent


def load_codingkit():
    """Import ``codingkit/`` (next to this file) as the package ``dgm_codingkit``."""
    name = "dgm_codingkit"
    if name in sys.modules:
        return sys.modules[name]
    init = HERE / "codingkit" / "__init__.py"
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


load_codingkit()
from dgm_codingkit import stage as _stage  # noqa: E402
from dgm_codingkit.swegrade import grade_patches  # noqa: E402
from dgm_codingkit.taskrepo import SweTask, load_tasks  # noqa: E402


class SweMiniSuite(Suite):
    def __init__(self, spec: SuiteSpec):
        super().__init__(spec)
        self.tasks: dict[str, SweTask] = load_tasks(spec.path)
        self.agent_settings, self.grading = _stage.settings(spec)
        for i in range(len(spec.stages)):  # bad stage params fail at load, not mid-run
            _stage.stage_ids(spec, i, list(self.tasks))

    def stage_task_ids(self, stage: int) -> list[str]:
        return _stage.stage_ids(self.spec, stage, list(self.tasks))

    def evaluate(self, agent_dir: Path, stage: int, ctx: EvalContext) -> StageOutcome:
        ids = self.stage_task_ids(stage)
        root = Path(ctx.workdir) / f"{self.name}-stage{stage}"
        coding = [_stage.CodingTask(t, self.tasks[t].problem_statement, self.tasks[t].build_testbed,
                                    getattr(self.tasks[t], "image", None))  # swe-bench: per repository
                  for t in ids]
        runs = _stage.run_agents(coding, Path(agent_dir), self.spec, ctx, root)
        graded = {}
        if isinstance(runs, dict):
            patches = {t: r.patch for t, r in runs.items() if not r.problem}
            ctx.log(f"{self.name}: grading {len(patches)} patches")
            graded = grade_patches(self.tasks, patches, ctx.sandbox, root / "grade",
                                   ctx.image or self.spec.image, self.grading)
        problems = {t: self.tasks[t].problem_statement for t in ids}
        return _stage.outcome(ids, runs, graded, problems, self.name)

    def grade_many(self, patches: dict[str, str], sandbox, workdir: Path | None = None,
                   image: str | None = None) -> dict[str, TaskResult]:
        """Grade patches (task id -> diff) with no agent involved; one TaskResult per task."""
        unknown = sorted(set(patches) - set(self.tasks))
        if unknown:
            raise KeyError(f"unknown {self.name} tasks: {', '.join(unknown)}")
        with tempfile.TemporaryDirectory(prefix="swe-mini-grade-") as tmp:
            graded = grade_patches(self.tasks, patches, sandbox, Path(workdir or tmp),
                                   image or self.spec.image, self.grading)
        return {t: TaskResult(t, 1.0 if g.resolved else 0.0, g.resolved, round(g.seconds, 3),
                              g.summary + ("\n" + g.details[-4000:] if not g.resolved else ""))
                for t, g in graded.items()}

    def grade(self, task_id: str, patch_text: str, sandbox, **kw) -> TaskResult:
        return self.grade_many({task_id: patch_text}, sandbox, **kw)[task_id]


def make_suite(spec: SuiteSpec) -> SweMiniSuite:
    return SweMiniSuite(spec)
