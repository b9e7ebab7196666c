"""polyglot: Aider's Polyglot exercises from a local checkout, graded by their own tests.

Host side, trusted. Exercises are read by ``codingkit/polyglot.py``; the agent
runs through the shared ``solve`` contract (``codingkit/agentrun.py``), twice
where the first answer fails (Aider's two tries: the second attempt starts
from the first one's tree and reads its test output); each answer is graded in
its own sandboxed call (``harness/run_tests.py``). Options: docs/coding-suites.md.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

from pydantic import Field

from dgm.errors import ConfigError
from dgm.sandbox.base import Limits, Mount
from dgm.suites import EvalContext, StageOutcome, Suite, SuiteSpec, TaskResult

HERE = Path(__file__).resolve().parent
HARNESS_DIR = HERE / "harness"
SWE_MINI_SCORER = HERE.parent / "swe-mini" / "scorer.py"
if "dgm_suite_swe_mini" not in sys.modules:  # it loads the shared codingkit (see swe-bench's scorer)
    _s = importlib.util.spec_from_file_location("dgm_suite_swe_mini", SWE_MINI_SCORER)
    sys.modules["dgm_suite_swe_mini"] = importlib.util.module_from_spec(_s)
    _s.loader.exec_module(sys.modules["dgm_suite_swe_mini"])
from dgm_codingkit import gitrepo  # noqa: E402
from dgm_codingkit import stage as _stage  # noqa: E402
from dgm_codingkit.agentrun import HARNESS_DIR as SWE_HARNESS  # noqa: E402
from dgm_codingkit.datasets import DatasetOptions, configure_stages, read_options  # noqa: E402
from dgm_codingkit.polyglot import Exercise, load_exercises  # noqa: E402
from dgm_codingkit.swegrade import result_line  # noqa: E402

ENV_PREFIX = "DGM_POLYGLOT"
LOG_LIMIT = 200_000


class PolyglotOptions(DatasetOptions):
    root: Optional[Path] = None
    languages: Optional[list[str]] = None
    attempts: int = Field(2, ge=1, le=5)


def _image(spec_image: str) -> str:
    """The content-hashed tag of the suite's image variant, when it is built."""
    prefix = "dgm-sandbox-"
    if spec_image.startswith(prefix) and ":" not in spec_image:
        try:
            from dgm.sandbox.variants import current_variant

            return current_variant(spec_image[len(prefix):]) or spec_image
        except Exception:
            return spec_image
    return spec_image


class PolyglotSuite(Suite):
    def __init__(self, spec: SuiteSpec):
        opts = read_options(spec, ENV_PREFIX, PolyglotOptions)
        if opts.root is None:
            raise ConfigError(f"suite {spec.name}: say where the exercises are: {ENV_PREFIX}_ROOT (a "
                              "checkout of Aider-AI/polyglot-benchmark) or [dataset].root in suite.toml "
                              "(docs/coding-suites.md)")
        self.tasks: dict[str, Exercise] = load_exercises(opts.root, opts.languages)
        super().__init__(configure_stages(spec, list(self.tasks), opts))
        self.options = opts
        self.agent_settings, self.grading = _stage.settings(self.spec)
        self._resolved_image: str | None = None

    @property
    def image(self) -> str:
        if self._resolved_image is None:
            self._resolved_image = _image(self.spec.image)
        return self._resolved_image

    def stage_task_ids(self, stage: int) -> list[str]:
        return _stage.stage_ids(self.spec, stage, list(self.tasks))

    # -- grading ---------------------------------------------------------------
    def _grade_one(self, ex: Exercise, patch: str, sandbox, jobdir: Path, image: str) -> _stage.Graded:
        if jobdir.exists():
            shutil.rmtree(jobdir)
        jobdir.mkdir(parents=True)
        ex.build_testbed(jobdir / ex.slug)  # named like the exercise: CMakeLists.txt derive names from it
        kept, dropped = ex.strip_answer(patch)
        (jobdir / "model.patch").write_text(kept)
        gitrepo.write_files(jobdir / "protected", ex.protected())
        argv = ex.lang.argv + (ex.tests if ex.language == "python" else [])
        (jobdir / "command.json").write_text(json.dumps({"argv": argv, "solution": ex.solution}))
        timeout = self.grading.seconds_per_task
        rr = sandbox.run(image, ["python3", "/polyglot/run_tests.py", "--job", "/job", "--testbed", ex.slug,
                                 "--timeout", f"{timeout:g}"],
                         mounts=[Mount(SWE_HARNESS, "/harness"), Mount(HARNESS_DIR, "/polyglot"),
                                 Mount(jobdir, "/job", writable=True)],
                         env={}, limits=Limits(seconds=timeout + 60, memory_mb=self.grading.memory_mb,
                                               pids=512, file_size_mb=512, scratch_mb=2048),
                         network=None, workdir="/job")
        notes = [f"ignored changes to files other than the solution: {', '.join(dropped)}"] if dropped else []
        # the result line on the grader's stdout, printed after it killed what the tests
        # left; never a file in the job dir, which the code under test can write
        # a grader that did not exit 0 was killed or crashed: whatever it printed is not its
        # verdict (a test process may have written a line where the grader's stdout goes)
        res = result_line(rr.stdout) if rr.exit_code == 0 else None
        if not isinstance(res, dict):
            return _stage.Graded(False, "; ".join(notes + [f"grader failed ({rr.reason})"]),
                                 (rr.stdout + rr.stderr)[-3000:], rr.seconds)
        if res.get("removed"):
            notes.append(f"removed files the answer added anyway: {', '.join(res['removed'])}")
        if res.get("error"):
            return _stage.Graded(False, "; ".join(notes + [f"grader error: {res['error']}"]), "", rr.seconds)
        if not res.get("applied"):
            return _stage.Graded(False, "; ".join(notes + ["patch does not apply"]),
                                 str(res.get("apply_log", ""))[-3000:], rr.seconds)
        log = str(res.get("log") or "")[-LOG_LIMIT:]
        if res.get("timed_out"):
            return _stage.Graded(False, "; ".join(notes + [f"tests timed out after {timeout:g} s"]), log,
                                 rr.seconds)
        ok, why = ex.verdict(res.get("exit_code"), log)
        return _stage.Graded(ok, "; ".join(notes + [why]), log, rr.seconds)

    def _grade(self, patches: dict[str, str], sandbox, workdir: Path, image: str) -> dict[str, _stage.Graded]:
        def one(tid: str):
            return tid, self._grade_one(self.tasks[tid], patches[tid], sandbox, workdir / tid, image)

        with ThreadPoolExecutor(max_workers=self.grading.workers) as pool:
            return dict(pool.map(one, list(patches)))

    def grade_many(self, patches: dict[str, str], sandbox, workdir: Path | None = None,
                   image: str | None = None) -> dict[str, TaskResult]:
        """Grade patches (task id -> diff) with no agent involved; one TaskResult per task."""
        unknown = sorted(set(patches) - set(self.tasks))
        if unknown:
            raise KeyError(f"unknown polyglot exercises: {', '.join(unknown)}")
        with tempfile.TemporaryDirectory(prefix="polyglot-grade-") as tmp:
            graded = self._grade(patches, sandbox, Path(workdir or tmp), image or self.image)
        return {t: TaskResult(t, 1.0 if g.resolved else 0.0, g.resolved, round(g.seconds, 3),
                              g.summary + ("\n" + g.details[-4000:] if not g.resolved else ""))
                for t, g in graded.items()}

    def grade(self, task_id: str, patch_text: str, sandbox, **kw) -> TaskResult:
        return self.grade_many({task_id: patch_text}, sandbox, **kw)[task_id]

    # -- the agent, twice ------------------------------------------------------
    def evaluate(self, agent_dir: Path, stage: int, ctx: EvalContext) -> StageOutcome:
        ids = self.stage_task_ids(stage)
        root = Path(ctx.workdir) / f"{self.name}-stage{stage}"
        ctx = dataclasses.replace(ctx, image=self.image)  # the variant, whatever the engine's default
        coding = [_stage.CodingTask(t, self.tasks[t].problem_statement, self.tasks[t].build_testbed)
                  for t in ids]
        runs = _stage.run_agents(coding, Path(agent_dir), self.spec, ctx, root / "attempt1")
        graded: dict[str, _stage.Graded] = {}
        if isinstance(runs, dict):
            graded = self._attempts(ids, runs, Path(agent_dir), ctx, root)
        problems = {t: self.tasks[t].problem_statement for t in ids}
        return _stage.outcome(ids, runs, graded, problems, self.name)

    def _attempts(self, ids, runs, agent_dir: Path, ctx: EvalContext, root: Path) -> dict:
        patches = {t: r.patch for t, r in runs.items() if not r.problem}
        ctx.log(f"{self.name}: grading {len(patches)} first attempts")
        graded = self._grade(patches, ctx.sandbox, root / "grade1", ctx.image)
        for attempt in range(2, self.options.attempts + 1):
            again = [t for t in ids if t in graded and not graded[t].resolved]
            if not again:
                break
            retry = [_stage.CodingTask(t, self.tasks[t].retry_statement(graded[t].details),
                                       self._continue_from(t, runs[t].patch)) for t in again]
            more = _stage.run_agents(retry, agent_dir, self.spec, ctx, root / f"attempt{attempt}")
            if not isinstance(more, dict):
                break
            new = {t: r.patch for t, r in more.items() if not r.problem}
            ctx.log(f"{self.name}: grading {len(new)} answers of attempt {attempt}")
            for t, g in self._grade(new, ctx.sandbox, root / f"grade{attempt}", ctx.image).items():
                g.summary = f"attempt {attempt}: {g.summary}"
                graded[t] = g
                runs[t] = more[t]
        return graded

    def _continue_from(self, tid: str, patch: str):
        """A testbed at the base commit with the previous answer applied (uncommitted)."""
        ex = self.tasks[tid]

        def build(dest: Path) -> str:
            commit = ex.build_testbed(dest)
            if patch.strip():
                try:  # git apply refuses paths outside the tree and writes through no symlink
                    gitrepo.git(["apply", "--whitespace=nowarn", "-"], dest, stdin=patch.encode())
                except gitrepo.GitError:
                    pass  # the second attempt then starts from the stubs
            return commit

        return build


def make_suite(spec: SuiteSpec) -> PolyglotSuite:
    return PolyglotSuite(spec)
