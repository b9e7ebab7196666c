"""The search's hooks in the scheduler (a mixin of dgm.engine.loop.Loop) and its worker-side checks.

The logic lives in searchlog (records), admission (keep_better, confirmation),
dedup and precheck; these methods only wire them to the loop's jobs and
futures, so the loop itself stays a scheduler.
"""

from __future__ import annotations

import concurrent.futures as cf
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dgm.archive import searchlog
from dgm.engine.evaluation import StageTask, evaluate_stage

if TYPE_CHECKING:
    from dgm.engine.admission import Confirmer
    from dgm.archive.store import Archive
    from dgm.config import SearchConfig
    from dgm.engine.loop import Job, LoopSettings
    from dgm.engine.population import Population
    from dgm.engine.scheduling import Slots


class SearchHooks:
    """Methods of Loop for duplicates, operator outcomes, confirmations and evaluation slots."""

    if TYPE_CHECKING:  # what the methods use of dgm.engine.loop.Loop, for the type checker
        a: Archive
        s: LoopSettings
        search: SearchConfig
        pop: Population
        slots: Slots
        confirmer: Confirmer
        fps: dict[str, str]
        futures: dict[cf.Future, tuple[str, Job]]
        seed_ids: list[str]
        children: int
        executor: Any
        reporter: Any
        job_type: type[Job]

        def event(self, kind: str, agent: str | None = None, **data: Any) -> None: ...
        def _in_eval(self) -> int: ...
        def _rejected(self, reason: str) -> None: ...
        def _start_stage(self, job: Job) -> None: ...
        def _stage_task(self, agent: str, suite: str, stage: int, seed: int) -> StageTask: ...
        def _submit_stage(self, job: Job) -> None: ...

    def _outcome(self, agent: str, outcome: str) -> None:
        searchlog.record_outcome(self.a, agent, run=self.s.run_id, outcome=outcome,
                                 z=self.search.success_z, confidence=self.search.confidence)

    def _duplicate_on_resume(self, job: Job) -> bool:
        """A child committed just before a crash, before it could be marked a duplicate."""
        if not self.search.dedup or self.a.agent(job.agent_id).status != "proposed":
            return False
        fp = self.a.query("SELECT hash FROM fingerprints WHERE agent=?", [job.agent_id])
        if fp and self._duplicate(job, fp[0][0], known=True):
            self.children -= 1  # recover() counted it
            return True
        return False

    def _duplicate(self, job: Job, fp: str, known: bool = False) -> bool:
        orig = self.fps.get(fp)
        if orig is None or orig == job.agent:
            return False
        searchlog.mark_duplicate(self.a, job.agent_id, orig)
        if known:
            self.pop.set_status(job.agent_id, "duplicate")
        else:
            self.pop.add(job.agent_id, job.parent, "duplicate")
        self.event("job_done", agent=job.agent, job=job.index, outcome="duplicate", of=orig)
        self.reporter.child(job.agent, "duplicate", self.a.agent(job.agent_id).score,
                            f"same program as {orig}")
        self._outcome(job.agent_id, "duplicate")
        if not known:
            # a duplicate costs no budget, so a proposer that only repeats itself would loop
            # until --wall-time: it counts toward a stall like a rejected proposal
            self._rejected(f"duplicate: the same program as {orig}")
        return True

    def _fingerprint_seeds(self) -> None:
        from dgm.engine.dedup import fingerprint_dir
        have = {aid for aid in self.fps.values()}
        for aid in self.seed_ids:
            if aid not in have and not self.a.query("SELECT 1 FROM fingerprints WHERE agent=?", [aid]):
                with tempfile.TemporaryDirectory(prefix="dgm-fp-") as tmp:
                    fp = fingerprint_dir(self.a.materialize(aid, Path(tmp) / "agent"))
                searchlog.set_fingerprint(self.a, aid, fp)
                self.fps.setdefault(fp, aid)

    def _confirm(self, agent: str) -> None:
        """Re-evaluate a possible best (and the seed, on the same stages) with more seeds."""
        todo = self.confirmer.tasks(agent)
        if self.seed_ids and agent != self.seed_ids[0]:
            todo += [t for t in self.confirmer.tasks(self.seed_ids[0], stages_of=agent)
                     if not self.confirmer.pending.get((t.agent, t.suite, t.stage, t.seed))]
        for t in todo:
            self.confirmer.pending[(t.agent, t.suite, t.stage, t.seed)] = 1
            self._submit_stage(self.job_type(-2, t.seed, agent=t.agent, confirm=t))

    def _start_confirm(self, job: Job) -> None:
        t = job.confirm
        task = self._stage_task(t.agent, t.locator, t.stage, t.seed)
        self.event("confirm_started", agent=t.agent, suite=t.suite, stage=t.stage, seed=t.seed)
        self.futures[self.executor.submit(evaluate_stage, task)] = ("confirm", job)

    def _on_confirm(self, job: Job, fut: cf.Future) -> None:
        t = job.confirm
        self.confirmer.pending.pop((t.agent, t.suite, t.stage, t.seed), None)
        try:
            outcome = fut.result()
        except Exception as exc:  # infrastructure: the claim simply has one seed fewer
            self.event("confirm_failed", agent=t.agent, seed=t.seed, reason=f"{type(exc).__name__}: {exc}")
            return
        searchlog.record_confirmation(self.a, t.agent, t.suite, t.stage, t.seed, outcome.results,
                                      self.s.run_id)
        self.event("confirm_done", agent=t.agent, suite=t.suite, stage=t.stage, seed=t.seed,
                   score=outcome.score)

    def _pump(self) -> None:
        while self.slots.ready and self.slots.may_evaluate(self._in_eval()):
            self._start_stage(self.slots.ready.popleft())

    def _report_claim(self) -> None:
        if not self.seed_ids or self.search.confirm_seeds == 0:
            return
        claim = self.confirmer.claim(self.seed_ids[0])
        if claim is not None:
            self.event("best_claim", agent=claim.agent, mean=claim.mean, seeds=claim.seeds,
                       gain=None if claim.gain is None else [claim.gain.mean, claim.gain.lo, claim.gain.hi],
                       seed_sd=claim.seed_sd)
            self.reporter.message(claim.line(self.seed_ids[0]))


@dataclass
class Checks:
    """What a proposal worker checks on its child before the scheduler sees it."""

    dedup: bool
    precheck: bool
    known: dict  # fingerprint -> agent (the scheduler's; read only here)
    suite: str | None  # the first stage's suite locator, for its dynamic pre-check
    settings: Any  # dgm.engine.loop.LoopSettings


def check_child(archive, job, prep: Any, checks: Checks) -> dict:
    """Worker side: fingerprint the child, and pre-check it unless it is a known program."""
    from dgm.engine.dedup import fingerprint_dir
    from dgm.engine.precheck import dynamic_check, static_check

    child = archive.git.materialize(prep.commit, job.work / "child")
    found: dict = {}
    if checks.dedup:
        found["fingerprint"] = fingerprint_dir(child)
        if found["fingerprint"] in checks.known:
            return found  # a duplicate is never evaluated: nothing to pre-check
    if checks.precheck:
        parent = archive.materialize(job.parent, job.work / "parent-clean")
        why = static_check(child, parent)
        if why is None and checks.suite is not None:
            s = checks.settings
            why = dynamic_check(child, checks.suite, seed=s.seed, sandbox=s.sandbox, image=s.image,
                                device=s.device, env=dict(s.env or {}), work=job.work / "check")
        if why:
            found["precheck"] = why
    return found
