"""The icl suite's host half: meta-test tasks, sandboxed meta-train/predict, scores.

Loaded by ``dgm.suites.load_suite`` as a file; it puts its own folder and the
harness folder on ``sys.path`` to import ``icl_host`` (host-only code) and
``icl_harness.taskgen`` (the task generator shared with the sandbox side).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
for _p in (str(_HERE), str(_HERE / "harness")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from dgm.agents import load_manifest  # noqa: E402
from dgm.errors import ConfigError  # noqa: E402
from dgm.suites import EvalContext, StageOutcome, Suite, SuiteSpec, TaskResult  # noqa: E402
from icl_harness.io import save_episodes  # noqa: E402
from icl_host import baselines, compute, episodes, pools, report, secret  # noqa: E402
from icl_host.params import StageParams, parse_params  # noqa: E402
from icl_host.agent_runner import AgentRunner, tail  # noqa: E402
from icl_host.scoring import BadOutput, accuracy, read_logits, task_score  # noqa: E402

ENV_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass
class Plan:
    """Everything one stage evaluates: scored cells and diagnostic groups."""

    params: StageParams
    groups: list[episodes.Group]          # scored
    diag: dict[str, episodes.Group]       # "train", "seen", "shuffled", "unseen"
    base: dict[str, dict[str, np.ndarray]]

    @property
    def predict_groups(self) -> list[episodes.Group]:
        extra = [self.diag[k] for k in ("train", "seen", "shuffled")]
        if self.diag["unseen"].name not in {g.name for g in self.groups}:
            extra.append(self.diag["unseen"])
        return self.groups + extra


class IclSuite(Suite):
    """See docs/icl.md for the task format, the agent contract and the score."""

    def __init__(self, spec: SuiteSpec, cache_dir: Path | None = None, reuse_checkpoints: bool = True,
                 checkpoint_dir: Path | None = None):
        super().__init__(spec)
        self.cache = Path(cache_dir) if cache_dir else baselines.cache_dir()
        self.reuse_checkpoints = reuse_checkpoints
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else self.cache / "checkpoints"
        self._plans: dict[tuple, Plan] = {}

    def params(self, stage: int) -> StageParams:
        if not 0 <= stage < len(self.stages):
            raise ConfigError(f"suite {self.name} has stages 0..{len(self.stages) - 1}, not {stage}")
        return parse_params(self.stages[stage].params, f"suite {self.name} stage {self.stages[stage].name}")

    def salt(self, ctx: EvalContext | None = None) -> str:
        """The secret task salt: the archive's (ctx.secret), else this machine's (secret.py)."""
        given = getattr(ctx, "secret", None) if ctx is not None else None
        return secret.check(given, "EvalContext.secret") if given else secret.local_salt(self.cache)

    def plan(self, stage: int | StageParams, salt: str | None = None) -> Plan:
        """The stage's episodes and their baselines (MissingPool if data is absent), memoised."""
        p = stage if isinstance(stage, StageParams) else self.params(stage)
        salt = salt or self.salt()
        key = (p.model_dump_json(), str(pools.fashion_dir()), str(self.cache), salt)
        if key not in self._plans:
            self._plans[key] = self._make_plan(p, salt)
        return self._plans[key]

    @staticmethod
    def scored_groups(p: StageParams, salt: str) -> list[episodes.Group]:
        """The stage's scored cells: tasks first_task .. first_task+T-1 of every (pool, n_ctx)."""
        groups = []
        for name in p.pools:
            pool = pools.load_pool(name)
            for n in p.n_ctx:
                groups.append(episodes.cell(pool, n, p.n_query, p.tasks, p.task_seed,
                                            subset=name in p.subset_pools, start=p.first_task,
                                            salt=salt))
        return groups

    def _make_plan(self, p: StageParams, salt: str) -> Plan:
        groups = self.scored_groups(p, salt)
        n_diag = max(p.n_ctx)
        train = pools.load_pool(p.train_pool)
        unseen_name = f"{p.unseen_pool}/ctx{n_diag}"
        unseen = next((g for g in groups if g.name == unseen_name), None) or episodes.cell(
            pools.load_pool(p.unseen_pool), n_diag, p.n_query, p.diag_tasks, p.task_seed,
            start=p.first_task, salt=salt)
        diag = {"train": episodes.cell(train, n_diag, p.n_query, p.diag_tasks, p.task_seed,
                                       name="diag/train", start=p.first_task, salt=salt),
                "seen": episodes.seen_cell(train, n_diag, p.n_query, p.seen_tasks, p.task_seed,
                                           salt=salt),
                "shuffled": episodes.shuffled(episodes.head(unseen, p.diag_tasks), p.task_seed,
                                              salt),
                "unseen": unseen}
        base = {g.name: baselines.for_group(g, self.cache) for g in groups}
        base["diag/shuffled"] = {"chance": baselines.chance(diag["shuffled"].tasks),
                                 "ceiling": baselines.ceiling(diag["shuffled"].tasks)}
        return Plan(p, groups, diag, base)

    def check(self) -> None:
        """Fail early, in one line, on bad stage params or a pool whose data is missing."""
        for i in range(len(self.stages)):
            p = self.params(i)
            for name in {*p.pools, p.train_pool, p.unseen_pool}:
                pools.load_pool(name)

    def baselines_table(self, stage: int | None = None) -> str:
        """The reference rows of a stage (default: the last): open score and accuracy per cell."""
        idx = len(self.stages) - 1 if stage is None else stage
        plan = self.plan(idx)
        rows = report.cell_rows(plan.groups, None, plan.base)
        refs = report.compare(plan.groups, plan.base, None)["references"]
        total = ", ".join(f"{baselines.LABELS[r]} {v['score']:.4f} ± {v['se']:.4f}" for r, v in refs.items())
        return (f"icl stage {self.stages[idx].name}: reference rows, scored like an agent\n"
                f"stage score (mean over tasks of (acc - chance) / (ceiling - chance)): {total}\n\n"
                + report.score_table(rows, with_agent=False) + "\n\nquery accuracy, mean over tasks\n\n"
                + report.table(rows, with_agent=False))

    def env(self, p: StageParams, ctx: EvalContext) -> dict[str, str]:
        env = dict(ctx.env)
        env.update({v: str(p.threads) for v in ENV_THREAD_VARS})
        env.update({"PYTHONPATH": "/harness", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
                    "CUBLAS_WORKSPACE_CONFIG": ":4096:8"})
        return env

    def evaluate(self, agent_dir: Path, stage: int, ctx: EvalContext) -> StageOutcome:
        plan = self.plan(stage, self.salt(ctx))
        return self.run_plan(Path(agent_dir), plan, ctx, self.stages[stage].name)

    def run_plan(self, agent_dir: Path, plan: Plan, ctx: EvalContext, label: str) -> StageOutcome:
        p = plan.params
        try:
            manifest = load_manifest(agent_dir)
            if manifest.domain != "metalearning":
                raise ConfigError(f"agent domain is {manifest.domain!r}, the icl suite needs 'metalearning'")
        except ConfigError as exc:
            return self._failed(plan, f"bad agent manifest: {exc}", {}, None, 0.0)
        scratch = ctx.workdir / f"icl-{label}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        limits = self.spec.limits.to_limits(gpus=1 if ctx.device.startswith("cuda") else 0,
                                            **({"memory_mb": p.memory_mb} if p.memory_mb else {}))
        runner = AgentRunner(ctx.sandbox, ctx.image or self.spec.image, agent_dir, manifest.commands,
                             scratch, limits, self.env(p, ctx), list(getattr(ctx, "mounts", [])))
        # Host files go to the runner's fresh inputs dir (read-only at /inputs), never into scratch.
        pools.write_train_pool(p.train_pool, runner.inputs / "train_pool.npz")
        common = ["--device", ctx.device, "--threads", str(p.threads), "--tier", p.tier]
        budget = (["--steps", str(p.steps)] if p.steps else []) + \
                 (["--seconds", f"{p.seconds:g}"] if p.seconds else []) + \
                 (["--flops-budget", f"{p.train_flops:.6g}"] if p.train_flops else [])
        ctx.log(f"icl {label}: meta-training {agent_dir.name} ({' '.join(budget)}, seed {ctx.seed})")
        mt = runner.meta_train(["--train-pool", "/inputs/train_pool.npz", "--checkpoint",
                                "/scratch/checkpoint", "--seed", str(ctx.seed), "--stats",
                                "/scratch/train_stats.json", "--compute", "/scratch/compute_train.json"]
                               + common + budget,
                               p.meta_train_timeout, p.max_checkpoint_mb,
                               self.checkpoint_dir if self.reuse_checkpoints else None)
        arts = {"meta_train.log": mt.log}
        if not mt.ok:
            return self._failed(plan, mt.reason, arts, mt.image_digest, mt.seconds)
        train_flops, why = compute.check(mt.compute, "meta-train", p.train_flops)
        used = {"train_flops": train_flops, "train_flops_budget": p.train_flops,
                "train_steps": mt.stats.get("steps"), "train_seconds": mt.stats.get("seconds")}
        if why:
            return self._failed(plan, why, arts, mt.image_digest, mt.seconds, used)
        groups = plan.predict_groups
        save_episodes(runner.inputs / "episodes.npz",
                      [{"cx": g.tasks.cx, "cy": g.tasks.cy, "qx": g.tasks.qx} for g in groups])
        ctx.log(f"icl {label}: predicting {sum(len(g) for g in groups)} episodes")
        pr = runner.predict(["--episodes", "/inputs/episodes.npz", "--checkpoint", "/scratch/checkpoint",
                             "--out", "/scratch/logits.npz", "--compute", "/scratch/compute_predict.json"]
                            + common + (["--flops-budget", f"{p.predict_flops:.6g}"] if p.predict_flops else []),
                            p.predict_timeout)
        arts["predict.log"] = pr.log
        secs = mt.seconds + pr.seconds
        if not pr.ok:
            return self._failed(plan, pr.reason, arts, pr.image_digest, secs, used)
        used["predict_flops"], why = compute.check(pr.compute, "predict", p.predict_flops)
        used["predict_flops_budget"] = p.predict_flops
        if why:
            return self._failed(plan, why, arts, pr.image_digest, secs, used)
        try:
            logits = read_logits(scratch / "logits.npz", groups)
        except BadOutput as exc:
            return self._failed(plan, f"predict output rejected: {exc}", arts, pr.image_digest, secs,
                                used)
        accs, invalid = {}, {}
        for g, lg in zip(groups, logits):
            ga = accuracy(g, lg)
            accs[g.name], invalid[g.name] = ga.acc, ga.invalid
        scores = self._scores(plan, accs, invalid)
        results = self._results(plan, accs, scores, invalid, secs)
        outcome = StageOutcome(results, image_digest=pr.image_digest or mt.image_digest)
        rows = report.cell_rows(plan.groups, accs, plan.base, scores)
        cmp = report.compare(plan.groups, plan.base, scores)
        diag = report.diagnostics(plan.groups, accs, plan.base, plan.diag, p.unseen_pool, mt.stats)
        diag["meta_train"]["cached"] = mt.cached
        outcome.artifacts = {"summary.md": report.summary_text(label, rows, cmp, used),
                             "stage.json": report.to_json(self._stage_record(cmp, used, ctx)),
                             "diagnostics.md": report.diagnostics_text(diag),
                             "diagnostics.json": report.to_json({"cells": rows, **diag}), **arts}
        return outcome

    @staticmethod
    def _stage_record(cmp: dict, used: dict, ctx: EvalContext | None) -> dict:
        """stage.json: what the archive keeps of a stage beside its per-task rows."""
        return {"score": cmp.get("score", 0.0), "se": cmp.get("se", 0.0), "tasks": cmp.get("tasks", 0),
                "seed": getattr(ctx, "seed", None), "compute": used,
                "references": cmp["references"], "pools": cmp.get("pools", {}),
                "vs_logreg": cmp.get("vs_logreg")}

    @staticmethod
    def _scores(plan: Plan, accs: dict[str, np.ndarray], invalid: dict[str, list]) -> dict[str, np.ndarray]:
        """The agent's open score per task (0 for a voided task)."""
        out = {}
        for g in plan.groups:
            b = plan.base[g.name]
            s = task_score(accs[g.name], b["chance"], b["ceiling"])
            out[g.name] = np.where([w is not None for w in invalid[g.name]], 0.0, s)
        return out

    def _results(self, plan: Plan, accs: dict[str, np.ndarray], scores: dict[str, np.ndarray],
                 invalid: dict[str, list], secs: float) -> list[TaskResult]:
        """One row per task; ``resolved`` = at least logistic regression's accuracy on it."""
        n = sum(len(g) for g in plan.groups)
        out = []
        for g in plan.groups:
            b = plan.base[g.name]
            for i, tid in enumerate(g.task_ids):
                acc = float(accs[g.name][i])
                why = invalid[g.name][i]
                log = (f"acc {acc:.3f} | chance {b['chance'][i]:.3f} 1-NN {b['nn1'][i]:.3f} "
                       f"LDA {b['lda'][i]:.3f} logreg {b['logreg'][i]:.3f} | score {scores[g.name][i]:.3f}"
                       ) + (f" | {why}" if why else "")
                out.append(TaskResult(tid, float(scores[g.name][i]),
                                      resolved=bool(why is None and acc >= b["logreg"][i]),
                                      seconds=secs / n, log=log))
        return out

    def _failed(self, plan: Plan, reason: str, arts: dict[str, str], digest: str | None,
                secs: float, used: dict | None = None) -> StageOutcome:
        n = sum(len(g) for g in plan.groups)
        results = [TaskResult(tid, 0.0, False, secs / max(n, 1), log=reason)
                   for g in plan.groups for tid in g.task_ids]
        cmp = report.compare(plan.groups, plan.base, None)
        record = {**self._stage_record(cmp, used or {}, None), "tasks": n, "failure": reason}
        arts = {**arts, "stage.json": report.to_json(record),
                "failure.txt": reason + "\n\n" + tail(arts.get("predict.log") or
                                                       arts.get("meta_train.log") or "")}
        return StageOutcome(results, arts, digest)


def make_suite(spec: SuiteSpec) -> IclSuite:
    return IclSuite(spec)
