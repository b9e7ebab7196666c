"""Starting or resuming a run: validate everything, open the archive, pick the
sandbox, then hand over to the loop. Nothing starts when any input is bad."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dgm.agents import check_agent_dir, load_manifest
from dgm.archive.store import Archive
from dgm.config import RunConfig, load_config
from dgm.models.endpoint import check_endpoint
from dgm.errors import ConfigError, DgmError, InternalError
from dgm.engine.evaluation import Runtime, make_plan
from dgm.engine.executors import make_executor
from dgm.engine.loop import Loop, LoopSettings
from dgm.proposers.factory import MODEL_PROPOSERS, check_proposer, make_proposer
from dgm.engine.selection import make_strategy
from dgm.archive.staging import staged
from dgm.suites import load_suite

if TYPE_CHECKING:
    from dgm.sandbox.base import Sandbox


@dataclass
class RunSummary:
    run_id: str
    archive: Path
    children: int
    rejected: int
    best_id: str | None
    best_score: float | None
    seed_id: str | None
    seed_score: float | None
    seconds: float
    overhead_per_child_ms: float
    status: str
    reason: str | None = None  # why a run stopped short (a stalled run's cause)
    model_cost: float = 0.0  # what the gateway metered over the whole run (resumes included)
    model_calls: int = 0

    @property
    def gain(self) -> float | None:
        if self.best_score is None or self.seed_score is None:
            return None
        return self.best_score - self.seed_score

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["archive"] = str(self.archive)
        d["gain"] = self.gain
        return d


def _filled(cfg: RunConfig) -> tuple[str, Path, list[str]]:
    """The config's proposer, seed agent and suites, which its validator fills in from the
    domain's defaults when they are not given."""
    if cfg.proposer is None or cfg.seed_agent is None or cfg.suites is None:
        raise InternalError("run config without its domain defaults (not validated)")
    return cfg.proposer, cfg.seed_agent, cfg.suites


def _validate(cfg: RunConfig, unsafe: bool) -> tuple[list, Any, Any]:
    proposer_name, seed_agent, suite_names = _filled(cfg)
    strategy = make_strategy(cfg.selection, cfg.search)
    check_proposer(proposer_name, cfg)  # first: a missing endpoint is the likeliest problem
    proposer = make_proposer(proposer_name, cfg) if proposer_name not in MODEL_PROPOSERS else None
    manifest = load_manifest(seed_agent)
    check_agent_dir(seed_agent)
    if manifest.domain != cfg.domain:
        raise ConfigError(f"seed agent {seed_agent} is a {manifest.domain} agent, "
                          f"but the run's domain is {cfg.domain}")
    suites = [load_suite(s) for s in suite_names]
    for s in suites:
        if s.spec.domain != cfg.domain:
            raise ConfigError(f"suite {s.name} is for the {s.spec.domain} domain, not {cfg.domain}")
    if needs_gateway(cfg) and cfg.model.base_url is not None:  # else: the local model, no key
        from dgm.models.gateway_config import GatewayConfig
        gw = GatewayConfig.from_run_model(cfg.model)  # validates prices/budget keys
        if gw.api_key_env and not os.environ.get(gw.api_key_env):
            raise ConfigError(f"${gw.api_key_env} is not set: export the endpoint's API key on the "
                              "host (it never enters a sandbox), or set api_key_env = \"\" under "
                              "[run.model] for a local server without a key")
        check_endpoint(gw.base_url, os.environ.get(gw.api_key_env) if gw.api_key_env else None)
    if cfg.sandbox == "unsafe" and not unsafe:
        raise ConfigError("running agent code unsandboxed needs the explicit --unsafe flag")
    return suites, strategy, proposer


@dataclass
class Prepared:
    """A validated run, ready to execute: nothing is written before this exists."""

    archive: Archive
    cfg: RunConfig
    run_id: str
    resumed: bool
    suites: list
    strategy: Any
    proposer: Any
    notes: list[str] = field(default_factory=list)  # said when the run starts


RESUME_MODEL_KEYS = ("budget_usd", "budget_tokens", "prices", "base_url")


def _budget_from_file(path: Path, stored: dict[str, Any]) -> list[str]:
    """On resume the archive's recorded settings hold, except the model budget and endpoint:
    the config file's ``budget_usd``, ``budget_tokens``, ``prices`` and ``base_url`` under
    ``[run.model]`` (when it sets them) replace the recorded ones, so a run stopped by its
    budget can be given more, and one stalled on a dead endpoint can be pointed at a live one.
    Updates ``stored`` in place; returns a line per changed value."""
    given = load_config(path).model
    model = stored.setdefault("model", {})
    notes = []
    for key in RESUME_MODEL_KEYS:
        value = getattr(given, key)
        if key in given.model_fields_set and model.get(key) != value:
            notes.append(f"{path}: run.model.{key} is now {value} (was {model.get(key)})")
            model[key] = value
    return notes


def prepare(archive_path: Path | None, config_path: Path | None, overrides: dict[str, Any],
            new_path: Path, unsafe: bool = False) -> Prepared:
    """Validate the config, then open (resume) or create the archive and its run."""
    if archive_path is not None and (archive_path / "dgm.db").is_file():
        archive = Archive.open(archive_path)
        try:
            info = archive.run_info()
            if info is None:
                raise DgmError(f"{archive_path} holds no run; start one with `dgm run --archive NEW_DIR`")
            stored = json.loads(info["config"] or "{}")
            notes = _budget_from_file(config_path, stored) if config_path is not None else []
            url, was = overrides.get("model.base_url"), (stored.get("model") or {}).get("base_url")
            if url is not None and url != was:  # --model-url on resume: say so, never silently
                notes.append(f"--model-url: run.model.base_url is now {url} (was {was})")
            cfg = load_config(None, {**stored, **{k: v for k, v in overrides.items() if v is not None}})
            suites, strategy, proposer = _validate(cfg, unsafe)
        except BaseException:
            archive.close()
            raise
        return Prepared(archive, cfg, info["id"], True, suites, strategy, proposer, notes)
    cfg = load_config(config_path, overrides)
    suites, strategy, proposer = _validate(cfg, unsafe)
    path = Path(archive_path or new_path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise DgmError(f"{path} exists and is not an archive; choose a new directory")
    # Built aside and renamed into place, so a crash never leaves a half-made archive.
    run_id = "run-" + time.strftime("%Y%m%d-%H%M%S")
    with staged(path) as staging, Archive.create(staging) as archive:
        archive.save_run(run_id, status="running", seed=cfg.seed, config=cfg.model_dump_json())
        seed_agent = _filled(cfg)[1]
        archive.add_seed(seed_agent, summary=f"seed agent {seed_agent}", run=run_id)
    return Prepared(Archive.open(path), cfg, run_id, False, suites, strategy, proposer)


def execute(p: Prepared, reporter: Any, stop: threading.Event | None = None) -> RunSummary:
    """Run the prepared run until its budget is spent or ``stop`` is set. The sandbox it
    chooses and the gateway it starts are released when it ends (not when interrupted)."""
    archive, cfg, run_id = p.archive, p.cfg, p.run_id
    archive.save_run(run_id, status="running", config=cfg.model_dump_json())
    for note in p.notes:
        reporter.message(note)
    sandbox: Sandbox
    if cfg.sandbox == "unsafe":
        from dgm.sandbox.local import LocalSandbox
        reporter.message("sandbox: NONE (--unsafe): agent code runs as a plain subprocess")
        sandbox = LocalSandbox()
    else:
        from dgm.sandbox.select import choose_sandbox
        sandbox = choose_sandbox(cfg.sandbox, echo=reporter.message, pool_size=cfg.workers)
    image = getattr(sandbox, "image", None)  # docker: the content-hashed tag it was built as
    Runtime._sandboxes[cfg.sandbox] = sandbox  # evaluations reuse the backend chosen here
    settings = LoopSettings(run_id=run_id, budget=cfg.children, workers=cfg.workers, seed=cfg.seed,
                            schedule=cfg.schedule, generation_size=cfg.generation_size,
                            wall_seconds=cfg.wall_seconds, admission=cfg.admission,
                            admission_margin=cfg.admission_margin, sandbox=cfg.sandbox,
                            image=image, device=cfg.device, env=dict(cfg.agent_env),
                            search=cfg.search,
                            stall_after=cfg.stall_after, backoff_seconds=cfg.fault_backoff_s)
    if stop is not None:
        settings.stop = stop
    local = start_local_model(cfg, reporter) if needs_gateway(cfg) else None
    try:
        gateway = start_gateway(cfg, reporter, archive, run_id, local) if needs_gateway(cfg) else None
    except BaseException:
        if local is not None:
            local.stop()
        raise
    settings.gateway = gateway
    if local is not None:  # the seed coding agent's limits scaled to the model
        settings.env = {**local.spec.agent_env, **(settings.env or {})}
    proposer = p.proposer
    if proposer is None:  # a model proposer: made now that its gateway runs
        if gateway is None:
            raise InternalError("a model proposer without a gateway")
        proposer = make_proposer(_filled(cfg)[0], cfg, gateway.access, image=image)
    executor = make_executor(cfg)
    loop = Loop(archive, settings, make_plan(p.suites, cfg.max_stages), proposer, p.strategy,
                executor, reporter, sandbox=sandbox)
    reporter.start(run_id, str(archive.path), p.resumed)
    t0 = time.monotonic()
    status = "interrupted"
    try:
        loop.run()
        unfinished = archive.query("SELECT COUNT(*) FROM agents WHERE status IN "
                                   "('proposed', 'evaluating')")[0][0]
        done = loop.children >= cfg.children and not unfinished
        status = "finished" if done or not loop.stopping else "stopped"
        if not done and gateway is not None and gateway.budget_exhausted:
            status = "budget-spent"
        if not done and loop.stalled:
            status = "stalled"
    finally:
        archive.save_run(run_id, status=status, finished=time.time() if status == "finished" else None)
        executor.shutdown(wait=status != "interrupted")
        if gateway is not None:
            loop.drain_usage()
            gateway.stop()
        if local is not None:
            local.stop()
            reporter.message(f"local model {local.spec.name} stopped")
        if status != "interrupted":  # threads may still use it otherwise; the caller closes all
            Runtime.release(cfg.sandbox, sandbox)
        reporter.close()
    summary = summarize(archive, run_id, status, time.monotonic() - t0, loop)
    if gateway is not None:
        summary.model_cost, summary.model_calls = gateway.meter.total.cost, gateway.meter.total.calls
    return summary


def needs_gateway(cfg: RunConfig) -> bool:
    return cfg.proposer in MODEL_PROPOSERS or cfg.domain == "coding"


def start_local_model(cfg: RunConfig, reporter: Any):
    """The run's own local model server when no endpoint is configured, else None."""
    if cfg.model.base_url is not None:
        return None
    from dgm.models.local import runtime
    return runtime.start(cfg, reporter.message, parallel=cfg.workers)


def start_gateway(cfg: RunConfig, reporter: Any, archive: Archive | None = None,
                  run_id: str | None = None, local: Any = None):
    """Start the model gateway; its metering is queued for the loop to record. A resumed
    run's earlier spending (its ``usage`` rows) counts against its budget."""
    import queue

    from dgm.models.gateway import Gateway
    from dgm.models.gateway_config import GatewayConfig

    q: queue.Queue = queue.Queue()

    def on_usage(label, model, prompt_tokens, completion_tokens, cost):
        q.put(("usage", label, (model, prompt_tokens, completion_tokens, cost)))

    def on_transcript(label, request, response):
        q.put(("transcript", label, json.dumps({"request": request, "response": response},
                                               default=str)[:200_000]))

    overrides = {}
    if local is not None:  # fronted exactly like a hosted endpoint, at prices of 0
        from dgm.models.local.runtime import gateway_overrides
        overrides = gateway_overrides(local)
    gw = Gateway(GatewayConfig.from_run_model(cfg.model, **overrides), on_usage=on_usage,
                 on_transcript=on_transcript, log=reporter.message).start()
    gw.dgm_queue = q
    if archive is not None and run_id is not None:
        (pt, ct, cost, calls), = archive.query(
            "SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), "
            "COALESCE(SUM(cost), 0), COUNT(*) FROM usage WHERE run=?", [run_id])
        if calls:
            gw.meter.carry_over(pt, ct, cost, calls)
            reporter.message(f"model usage so far in this run: ${cost:.4f}, {pt + ct} tokens "
                             f"over {calls} calls" + (f" ({gw.budget_reason})"
                                                       if gw.budget_exhausted else ""))
    return gw


def summarize(archive: Archive, run_id: str, status: str, seconds: float, loop: Loop) -> RunSummary:
    best = archive.best(1)
    seeds = archive.query("SELECT id, score FROM agents WHERE parent IS NULL ORDER BY seq LIMIT 1")
    rejected = archive.query("SELECT COUNT(*) FROM proposals WHERE run=? AND status='rejected'",
                             [run_id])[0][0] + archive.query(
        "SELECT COUNT(*) FROM agents WHERE run=? AND status IN ('rejected','failed')", [run_id])[0][0]
    steps = max(1, loop.attempts)
    return RunSummary(run_id, archive.path, loop.children, rejected,
                      best[0].id if best else None, best[0].score if best else None,
                      seeds[0][0] if seeds else None, seeds[0][1] if seeds else None,
                      seconds, 1000 * loop.overhead / steps, status,
                      loop.stalled if status == "stalled" else None)
