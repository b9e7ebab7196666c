"""The evolution loop: select → propose → commit → evaluate stage by stage → admit/reject.

The scheduler (this module, one thread) is the only archive writer; proposals
and evaluations run as futures (threads here, Ray tasks elsewhere). Every
state change is journaled (``events``), each proposal carries its job index,
and job seeds derive from (run seed, job index), so after a crash ``resume``
re-queues in-flight work exactly: a proposal that never reached the archive is
redone with the same seed and parent; a child whose evaluation was cut off
continues after its last recorded stage. Nothing is run twice or lost.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import random
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dgm.archive import searchlog
from dgm.engine.admission import Confirmer, keep_better
from dgm.archive.store import Archive
from dgm.config import SearchConfig
from dgm.engine.evaluation import StagePlan, StageTask, evaluate_stage, next_step
from dgm.errors import InternalError
from dgm.faults import FaultTracker, HostFault, classify, reason_cause
from dgm.engine.population import Population
from dgm.engine.scheduling import Slots
from dgm.engine.search_hooks import Checks, SearchHooks, check_child
from dgm.proposers.base import Proposal, ProposalRejected, ProposeContext, Proposer
from dgm.engine.selection import Strategy



@dataclass
class Job:
    index: int  # -1 for a seed agent
    seed: int
    parent: str | None = None
    agent: str | None = None
    pos: int = 0  # position in the stage plan
    work: Path | None = None
    confirm: Any = None  # an admission.ConfirmTask, for a confirmation evaluation

    # The fields a job must have by the phase that reads them (optional only before it).
    @property
    def agent_id(self) -> str:
        """The agent being evaluated: a seed's, or the child once it is committed."""
        if self.agent is None:
            raise InternalError(f"job {self.index} has no agent yet")
        return self.agent

    @property
    def parent_id(self) -> str:
        """The parent a proposal job proposes from."""
        if self.parent is None:
            raise InternalError(f"job {self.index} has no parent")
        return self.parent

    @property
    def work_dir(self) -> Path:
        """The proposal's scratch directory (made when the proposal starts)."""
        if self.work is None:
            raise InternalError(f"job {self.index} has no work directory")
        return self.work


@dataclass
class LoopSettings:
    run_id: str
    budget: int
    workers: int
    seed: int
    schedule: str = "async"
    generation_size: int = 2
    wall_seconds: float | None = None
    admission: str = "keep_all"
    admission_margin: float = 0.1
    sandbox: str = "auto"
    image: str | None = None
    device: str = "cpu"
    env: dict | None = None
    network: str | None = None
    gateway: Any = None  # dgm.models.gateway.Gateway when agents or proposers call a model
    search: SearchConfig | None = None  # [run.search]: dedup, pre-check, limits, confirmation
    stall_after: int = 10  # consecutive host faults of one cause before the run stalls
    backoff_seconds: float = 0.5  # first retry delay after a host fault (doubles, max 15 s)
    # Set to stop: start no new job, finish the ones in flight. One per run (dgm.Run owns it),
    # so a stopped run never stops a later one in the same process.
    stop: threading.Event = field(default_factory=threading.Event)


class Loop(SearchHooks):
    job_type = Job
    def __init__(self, archive: Archive, settings: LoopSettings, plan: list[StagePlan],
                 proposer: Proposer, strategy: Strategy, executor: Any, reporter: Any,
                 sandbox: Any = None):
        self.a, self.s, self.plan = archive, settings, plan
        self.proposer, self.strategy, self.executor, self.reporter = proposer, strategy, executor, reporter
        self.sandbox = sandbox
        self.search = settings.search or SearchConfig()
        self.needs_tasks = getattr(strategy, "needs_tasks", False)
        self.pop = Population.from_archive(archive, with_tasks=self.needs_tasks)
        self.slots = Slots(settings.workers, self.search.max_proposals, self.search.max_evaluations)
        self.propose_pool = cf.ThreadPoolExecutor(max_workers=self.slots.proposals,
                                                  thread_name_prefix="dgm-prop")
        self.fps = searchlog.fingerprints(archive) if self.search.dedup else {}
        self.confirmer = Confirmer(archive, plan, settings.seed, self.search.confirm_seeds,
                                   self.search.confirm_margin, self.search.confidence)
        self.futures: dict[cf.Future, tuple[str, Job]] = {}
        self.stopping = False
        self.started = time.monotonic()
        self.next_index = 0
        self.attempts = 0
        self.children = 0
        self.seed_ids: list[str] = []
        self.overhead = 0.0  # seconds the scheduler itself spent (selection, writes, events)
        # Host faults are retried after a backoff (``delayed``); a cause that keeps failing
        # stops the run with ``stalled`` set to the reason (see dgm/faults.py).
        self.faults = FaultTracker(host_limit=settings.stall_after, reject_limit=4 * settings.budget + 10,
                                   backoff_base=settings.backoff_seconds)
        self.delayed: list[tuple[float, str, Job]] = []
        self.stalled: str | None = None

    # -- helpers -------------------------------------------------------------
    def job_seed(self, index: int) -> int:
        digest = hashlib.sha256(f"{self.s.seed}:{index}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    def event(self, kind: str, agent: str | None = None, **data: Any) -> None:
        self.a.record_event(kind, run=self.s.run_id, agent=agent, **data)

    def _in_propose(self) -> int:
        return sum(1 for phase, _ in [*self.futures.values(), *((p, j) for _, p, j in self.delayed)]
                   if phase == "propose")

    def _in_eval(self) -> int:
        return sum(1 for phase, _ in [*self.futures.values(), *((p, j) for _, p, j in self.delayed)]
                   if phase != "propose")

    # -- recovery ------------------------------------------------------------
    def recover(self) -> list[Job]:
        """Rebuild in-flight work from the journal and the archive (see module docstring)."""
        run = self.s.run_id
        started = {e["data"]["job"]: e["data"] for e in self.a.events(run=run, kind="job_started")}
        proposed = {r[0] for r in self.a.query(
            "SELECT DISTINCT job FROM proposals WHERE run=? AND job IS NOT NULL", [run])}
        job_of = dict(self.a.query(
            "SELECT agent, job FROM proposals WHERE run=? AND agent IS NOT NULL", [run]))
        self.seed_ids = [r[0] for r in self.a.query(
            "SELECT id FROM agents WHERE parent IS NULL ORDER BY seq")]
        self.children = self.a.query(  # duplicates cost no evaluation and do not count
            "SELECT COUNT(*) FROM agents WHERE run=? AND parent IS NOT NULL "
            "AND status != 'duplicate'", [run])[0][0]
        self.attempts = len(proposed | set(started))
        self.next_index = max(proposed | set(started), default=-1) + 1
        jobs = []
        for aid, status in self.a.query("SELECT id, status FROM agents WHERE status IN "
                                        "('proposed', 'evaluating') ORDER BY seq"):
            idx = job_of.get(aid)
            idx = -1 if idx is None else idx  # seeds have no job
            job = Job(idx, self.job_seed(idx), agent=aid, parent=self.a.agent(aid).parent)
            if status == "evaluating":
                self.event("requeued", agent=aid, job=idx)
            jobs.append(job)
        for idx in sorted(set(started) - proposed):  # proposals lost mid-flight: redo them
            self.event("job_redone", job=idx)
            jobs.append(Job(idx, self.job_seed(idx), parent=started[idx]["parent"]))
        return jobs

    # -- the loop ------------------------------------------------------------
    def run(self) -> None:
        pending = self.recover()
        self.event("run_resumed" if self.attempts or self.children else "run_started",
                   budget=self.s.budget, workers=self.s.workers)
        self._check_budget()  # a resumed run whose model budget is spent starts nothing
        if self.search.dedup:
            self._fingerprint_seeds()
        for job in pending if not self.stopping else []:
            if job.agent is None:
                self._start_proposal(job)
            elif not self._duplicate_on_resume(job):
                self._continue_eval(job)
        try:
            while True:
                if self.s.stop.is_set():
                    self.stopping = True
                self._check_budget()
                self._pump()
                self._fill()
                self._release_delayed()
                if not self.futures and not self.slots.ready and not self.delayed:
                    break
                if not self.futures:  # only host-fault retries wait: until the first is due
                    time.sleep(0.05)
                    continue
                done, _ = cf.wait(list(self.futures), timeout=0.5, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    phase, job = self.futures.pop(fut)
                    t0 = time.perf_counter()
                    {"propose": self._on_proposal, "evaluate": self._on_stage,
                     "confirm": self._on_confirm}[phase](job, fut)
                    self.overhead += time.perf_counter() - t0
                self._report()
            self._report_claim()
        finally:
            self.propose_pool.shutdown(wait=False, cancel_futures=True)
            self.drain_usage()

    def _check_budget(self) -> None:
        gw = self.s.gateway
        if gw is not None and gw.budget_exhausted and not self.stopping:
            self.stopping = True
            self.reporter.message(f"model budget spent ({gw.budget_reason}): no new jobs; "
                                  "finishing the ones in flight")
        self.drain_usage()

    def drain_usage(self) -> None:
        """Record model usage and transcripts the gateway metered (queued by its threads)."""
        q = getattr(self.s.gateway, "dgm_queue", None)
        while q is not None and not q.empty():
            kind, label, payload = q.get_nowait()
            agent = label.split(":", 1)[0] if label else None
            agent = agent if agent and agent.isdigit() else None
            if kind == "usage":
                model, pt, ct, cost = payload
                self.a.record_usage(agent, model, pt, ct, cost, run=self.s.run_id, purpose=label)
            else:
                self.a.record_transcript(agent, payload, run=self.s.run_id, kind=f"gateway:{label}")

    def _report(self) -> None:
        best = self.pop.best()
        self.reporter.update(done=self.children, running=len(self.futures),
                             best=None if best is None else (best.id, best.score))

    def _budget_left(self) -> bool:
        if self.s.wall_seconds is not None and time.monotonic() - self.started > self.s.wall_seconds:
            return False
        # proposals that keep failing stop the run through ``self.faults`` (consecutive, per cause)
        return self.children + self._in_propose() < self.s.budget

    def _fill(self) -> None:
        waiting = [*(j for _, j in self.futures.values()), *(j for _, _, j in self.delayed)]
        if self.stopping or any(j.index == -1 for j in waiting):
            return  # seeds are evaluated before any child is proposed
        if self.s.schedule == "generational":
            if self.futures or self.delayed or not self._budget_left():
                return
            k = min(self.s.generation_size, self.s.budget - self.children)
            gen = self.next_index // self.s.generation_size
            t0 = time.perf_counter()
            rng = random.Random(self.job_seed(-1000 - gen))
            parents = self._select(k, rng)
            self.overhead += time.perf_counter() - t0
            for p in parents or []:
                self._start_job(p)
            return
        while self.slots.may_propose(self._in_propose(), self._in_eval()) and self._budget_left():
            job_rng = random.Random(self.job_seed(self.next_index))
            t0 = time.perf_counter()
            parents = self._select(1, job_rng)
            self.overhead += time.perf_counter() - t0
            if not parents:
                return
            self._start_job(parents[0])

    def _select(self, k: int, rng: random.Random) -> list[str]:
        cands = self.pop.candidates()
        if not cands:
            self.stalled = ("stalled: no admitted agent to select a parent from: the seed failed "
                            "its first stage; see `dgm show` for its evaluation logs")
            self.reporter.message(self.stalled)
            self.stopping = True
            return []
        return self.strategy.select(cands, k, rng)

    def _start_job(self, parent: str) -> None:
        idx = self.next_index
        self.next_index += 1
        self._start_proposal(Job(idx, self.job_seed(idx), parent=parent))

    def _start_proposal(self, job: Job) -> None:
        self.attempts += 1
        self.event("job_started", agent=job.parent, job=job.index, parent=job.parent, seed=job.seed)
        try:
            job.work = Path(tempfile.mkdtemp(prefix=f"dgm-prop-{self.s.run_id}-"))
        except OSError as exc:
            self._host_fault(job, "propose", classify(exc) or HostFault("disk", str(exc)))
            return
        checks = Checks(self.search.dedup, self.search.precheck, self.fps, self.plan[0].locator
                         or self.plan[0].suite if self.plan else None, self.s)
        fut = self.propose_pool.submit(_propose_job, self.a, self.proposer, job,
                                       self.sandbox, dict(self.s.env or {}), checks)
        self.futures[fut] = ("propose", job)

    def _on_proposal(self, job: Job, fut: cf.Future) -> None:
        shutil.rmtree(job.work or "", ignore_errors=True)
        result, prep, seconds, found = fut.result()
        if isinstance(result, HostFault):  # not the proposal's fault: nothing recorded, retried
            self._host_fault(job, "propose", result)
            return
        common = dict(proposer=self.proposer.name, run=self.s.run_id, job=job.index, seconds=seconds)
        if isinstance(result, ProposalRejected):
            self.a.record_rejected_proposal(job.parent_id, result.reason, usage=result.usage, **common)
            self.event("job_done", job=job.index, outcome="rejected", reason=result.reason)
            self.reporter.child(None, "rejected", None, result.reason)
            self._rejected(result.reason)
            return
        if found.get("precheck"):  # turned away before any evaluation: no agent, no budget
            prep.reason = f"pre-check failed: {found['precheck']}"
        res = self.a.commit_child(prep, usage=result.usage, diagnosis=result.diagnosis,
                                  transplant_from=result.transplant_from,
                                  inspirations=result.inspirations, meta=result.meta, **common)
        if found.get("precheck"):
            searchlog.record_rejected_outcome(self.a, res.proposal_id, result.meta.get("operator"),
                                              run=self.s.run_id, outcome="precheck")
        if result.transcript:
            self.a.record_transcript(res.agent_id, result.transcript, run=self.s.run_id, kind="proposal")
        if res.agent_id is None:  # not res.ok: a rejected proposal, always with its reason
            assert res.reason is not None
            self.event("job_done", job=job.index, outcome="rejected", reason=res.reason)
            self.reporter.child(None, "rejected", None, res.reason)
            self._rejected(res.reason)
            return
        job.agent = agent = res.agent_id
        if found.get("fingerprint"):
            searchlog.set_fingerprint(self.a, agent, found["fingerprint"])
            if self._duplicate(job, found["fingerprint"]):
                return
            self.fps.setdefault(found["fingerprint"], agent)
        self.children += 1
        self.faults.success()
        self.pop.add(agent, job.parent)
        self.event("child_committed", agent=job.agent, job=job.index, summary=result.summary)
        self._continue_eval(job)

    # -- evaluation ----------------------------------------------------------
    def _continue_eval(self, job: Job) -> None:
        """Start (or resume after the last recorded stage) the agent's staged evaluation."""
        pos: int | None = 0
        while pos is not None:
            step = self.plan[pos]
            rows = self.a.query("SELECT AVG(score) FROM evaluations WHERE agent=? AND suite=? "
                                "AND stage=? AND run=?", [job.agent, step.suite, step.stage, self.s.run_id])
            if rows[0][0] is None:
                break
            pos = next_step(self.plan, pos, rows[0][0])
        if pos is None:
            self._admit(job)
            return
        job.pos = pos
        if self.a.agent(job.agent_id).status == "proposed":
            self.event("eval_started", agent=job.agent, job=job.index)
            self.a.set_status(job.agent_id, "evaluating")
            self.pop.set_status(job.agent_id, "evaluating")
        self._submit_stage(job)

    def _submit_stage(self, job: Job) -> None:
        if self.slots.limited:  # evaluations wait for a slot of their own
            self.slots.ready.append(job)
            self._pump()
            return
        self._start_stage(job)

    def _stage_task(self, agent: str, suite: str, stage: int, seed: int) -> StageTask:
        """One stage of ``agent``'s evaluation, as every evaluation of this run is made (a
        confirmation too): the archive's task secret, the agent's own gateway key."""
        env, mounts = dict(self.s.env or {}), []
        if self.s.gateway is not None:  # the agent's own key label: usage is metered per agent
            access = self.s.gateway.access
            env.update(access.sandbox_env(agent))
            mounts = [(str(m.source), m.target) for m in access.sandbox_mounts()]
        return StageTask(repo=str(self.a.git.path), commit=self.a.agent(agent).commit_sha,
                         suite=suite, stage=stage, seed=seed, device=self.s.device,
                         sandbox=self.s.sandbox, image=self.s.image, env=env,
                         network=self.s.network, mounts=mounts, secret=self.a.eval_secret())

    def _start_stage(self, job: Job) -> None:
        if job.confirm is not None:
            self._start_confirm(job)
            return
        step = self.plan[job.pos]
        task = self._stage_task(job.agent_id, step.locator or step.suite, step.stage, self.s.seed)
        self.event("stage_started", agent=job.agent, suite=step.suite, stage=step.stage)
        self.futures[self.executor.submit(evaluate_stage, task)] = ("evaluate", job)

    def _on_stage(self, job: Job, fut: cf.Future) -> None:
        step = self.plan[job.pos]
        try:
            outcome = fut.result()
        except Exception as exc:
            fault = classify(exc)
            if fault is not None:  # disk, engine, git store: retried, never the agent's result
                self._host_fault(job, "evaluate", fault)
                return
            reason = f"evaluation of {step.suite} stage {step.stage + 1} failed: {type(exc).__name__}: {exc}"
            self.event("job_done", agent=job.agent, job=job.index, outcome="failed", reason=reason)
            self.a.set_status(job.agent_id, "failed", reason[:500])
            self.pop.set_status(job.agent_id, "failed")
            self.reporter.child(job.agent, "failed", None, reason)
            self._outcome(job.agent_id, "failed")
            return
        gw = self.s.gateway
        if gw is not None and gw.refused(job.agent):
            # The agent's model calls were refused mid-stage: its results say nothing about
            # the agent. Record nothing; it stays 'evaluating' and the stage re-runs on resume.
            reason = (f"evaluation of {step.suite} stage {step.stage + 1} was cut short by the "
                      "model budget; it is re-run when the run is resumed with more budget")
            self.event("stage_cut", agent=job.agent, job=job.index, suite=step.suite,
                       stage=step.stage, reason=reason)
            self.reporter.message(f"{job.agent}: {reason}")
            return
        self.faults.success()
        score = self.a.record_evaluation(job.agent_id, step.suite, step.stage, outcome.results,
                                         image=outcome.image_digest, seed=self.s.seed,
                                         run=self.s.run_id, artifacts=outcome.artifacts)
        own = self.a.query("SELECT SUM(score), COUNT(*), SUM(resolved) FROM evaluations WHERE agent=?",
                           [job.agent])[0]
        self.pop.set_results(job.agent_id, own[0] or 0.0, own[1], own[2] or 0)
        self.pop.set_score(job.agent_id, score)
        if self.needs_tasks:
            for r in outcome.results:
                self.pop.add_task(job.agent_id, r.task_id, float(r.score), getattr(r, "seconds", 0.0))
        self.event("stage_done", agent=job.agent, suite=step.suite, stage=step.stage,
                   score=outcome.score, tasks=len(outcome.results))
        nxt = next_step(self.plan, job.pos, outcome.score)
        if nxt is None:
            self._admit(job)
        else:
            job.pos = nxt
            self._submit_stage(job)

    # -- faults --------------------------------------------------------------
    def _host_fault(self, job: Job, phase: str, fault: HostFault) -> None:
        """Retry the job's step after a backoff, or stall the run when its cause persists."""
        self.event("host_fault", agent=job.agent, job=job.index, phase=phase, cause=fault.cause,
                   reason=str(fault)[:500])
        if self.faults.failure(fault.cause, str(fault), host=True):
            self._stall()
            return
        delay = self.faults.backoff()
        self.reporter.message(f"host fault ({fault.cause}), not the agent's: {str(fault)[:200]}; "
                              f"retrying in {delay:.1f} s")
        self.delayed.append((time.monotonic() + delay, phase, job))

    def _rejected(self, reason: str) -> None:
        if self.faults.failure(reason_cause(reason), reason, host=False):
            self._stall()

    def _stall(self) -> None:
        self.stalled = self.faults.stalled()
        self.stopping = True
        self.delayed.clear()  # their jobs are redone or re-queued on resume
        self.event("run_stalled", reason=self.stalled)
        self.reporter.message(self.stalled)

    def _release_delayed(self) -> None:
        if self.stopping:
            self.delayed.clear()
        now = time.monotonic()
        ready = [d for d in self.delayed if d[0] <= now]
        for item in ready:
            self.delayed.remove(item)
            _, phase, job = item
            self._start_proposal(job) if phase == "propose" else self._submit_stage(job)

    def _admit(self, job: Job) -> None:
        ag = self.a.agent(job.agent_id)
        first = self.plan[0]
        s1 = self.a.query("SELECT AVG(score) FROM evaluations WHERE agent=? AND suite=? AND stage=?",
                          [job.agent, first.suite, first.stage])[0][0] or 0.0
        status, reason = "admitted", None
        if ag.parent is None:
            if s1 <= 0:
                self.reporter.message(f"warning: seed {ag.id} scored 0 on stage 1; it stays a parent")
        elif s1 <= 0:
            status, reason = "rejected", "scored 0 on stage 1 (see its evaluation logs)"
        elif self.s.admission == "keep_better" and self.seed_ids:
            reason = keep_better(self.a, ag.id, self.seed_ids[0], margin=self.s.admission_margin,
                                 confidence=self.search.confidence)
            status = "rejected" if reason else status
        best = self.pop.best()
        self.event("job_done", agent=ag.id, job=job.index, outcome=status, score=ag.score)
        self.a.set_status(ag.id, status, reason)
        self.pop.set_status(ag.id, status)
        self.reporter.child(ag.id, status, ag.score, ag.summary)
        if ag.parent is not None:
            self._outcome(ag.id, status)
        if status == "admitted" and self.confirmer.might_be_best(
                ag.id, None if best is None or ag.parent is None else best.score):
            self._confirm(ag.id)

def _propose_job(archive: Archive, proposer: Proposer, job: Job, sandbox: Any,
                 env: dict, checks: Checks | None = None
                 ) -> tuple[Proposal | ProposalRejected | HostFault, Any, float, dict]:
    """Worker side of a proposal: check the parent out, propose, and write the child's
    git objects (``prepare_child``); fingerprint and pre-check the child; the scheduler
    then commits it to the archive."""
    t0 = time.monotonic()
    prep = None
    found: dict = {}
    result: Proposal | ProposalRejected | HostFault
    try:
        parent_dir = archive.materialize(job.parent_id, job.work_dir / "parent")
        ctx = ProposeContext(parent_id=job.parent_id, parent_dir=parent_dir, rng=random.Random(job.seed),
                             archive=archive, work_dir=job.work_dir, sandbox=sandbox, gateway_env=env)
        result = proposer.propose(ctx)
        prep = archive.prepare_child(job.parent_id, result.diff, result.summary)
        if checks is not None and prep.reason is None and (checks.dedup or checks.precheck):
            found = check_child(archive, job, prep, checks)
    except ProposalRejected as rej:
        result = rej
    except Exception as exc:  # host faults are retried; a proposer bug is recorded as a rejection
        result = classify(exc) or ProposalRejected(f"proposer error: {type(exc).__name__}: {exc}")
    return result, prep, time.monotonic() - t0, found
