"""Run configuration: ``dgm.toml`` merged with command-line flags, validated by pydantic.

Every key has a default, so ``dgm run`` with no file and no flags runs the
offline default (metalearning, agents/metalearner, the icl stages, mutation
proposer, dgm selection, 12 children). An invalid key or value is one clear
line naming the key and the allowed values.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dgm.errors import ConfigError, validation_error
from dgm.textfiles import read_utf8

PROPOSERS = ("mutation", "llm", "self")
STRATEGIES = ("dgm", "dgm2025", "score", "greedy", "random", "hgm", "weighted", "qd")
DOMAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    "metalearning": {"seed_agent": "agents/metalearner", "suites": ["icl"]},
    "coding": {"seed_agent": "agents/coding", "suites": ["swe-mini"], "proposer": "self"},
}


def find_agent(path: Path) -> Path:
    """An agent directory as given when it exists; else, for a relative path, the agent of
    that name shipped with dgm (``agents/toy`` or just ``toy``), so that the defaults and the
    shipped agents work from any directory and from an installed wheel."""
    path = Path(path)
    if path.exists() or path.is_absolute():
        return path
    from dgm.resources import shipped
    for cand in (shipped(*path.parts), shipped("agents", *path.parts)):
        if (cand / "agent.toml").is_file():
            return cand
    return path


class ModelConfig(BaseModel):
    """The foundation-model endpoint (any OpenAI-compatible server)."""

    model_config = ConfigDict(extra="forbid")
    base_url: Optional[str] = None
    api_key_env: str = "OPENAI_API_KEY"
    propose_model: str = "gpt-4o-mini"
    diagnose_model: str = "gpt-4o-mini"
    agent_model: str = "gpt-4o-mini"
    budget_usd: Optional[float] = None
    budget_tokens: Optional[int] = None
    prices: dict[str, dict[str, float]] = Field(default_factory=dict)
    timeout_s: float = 120.0
    # With no base_url, model proposers use this local model (dgm/models/local; None: the default).
    local_model: Optional[str] = None
    # The gateway's tuning (docs/llm.md). None leaves GatewayConfig's default, which also
    # validates the range; gateway_config.GatewayConfig.from_run_model maps these by name.
    max_output_tokens: Optional[int] = Field(None, ge=1)  # the gateway's per-call output cap
    max_retries: Optional[int] = None
    backoff_seconds: Optional[float] = None
    max_backoff_seconds: Optional[float] = None
    max_request_mb: Optional[float] = None
    headers: dict[str, str] = Field(default_factory=dict)  # extra upstream headers
    tcp_host: Optional[str] = None  # also listen on TCP (e.g. a docker network's gateway IP)
    tcp_port: Optional[int] = None
    transcript_dir: Optional[str] = None  # also append JSONL transcripts here
    socket_dir: Optional[str] = None


# ModelConfig keys passed to GatewayConfig under the same name when set.
GATEWAY_KEYS = ("max_output_tokens", "max_retries", "backoff_seconds", "max_backoff_seconds", "max_request_mb",
                "headers", "tcp_host", "tcp_port", "transcript_dir", "socket_dir")

class LLMSettings(BaseModel):
    """``[run.proposers.llm]``: prompt budgets and sampling of the llm proposer
    (the fields of dgm.proposers.llm.LLMProposerConfig, same defaults)."""

    model_config = ConfigDict(extra="forbid")
    code_chars: int = Field(60_000, gt=0)
    log_chars: int = Field(16_000, ge=0)
    results_chars: int = Field(6_000, ge=0)
    relatives: int = Field(3, ge=0)
    relatives_chars: int = Field(10_000, ge=0)
    max_answer_chars: int = Field(400_000, gt=0)
    temperature: Optional[float] = Field(0.7, ge=0)  # None: the endpoint's default
    max_tokens: Optional[int] = Field(8192, gt=0)


class SelfSettings(BaseModel):
    """``[run.proposers.self]``: the self-modification run's limits and prompt budgets
    (dgm.proposers.selfmod.SelfProposerConfig; its image is the run's, its extra
    environment is ``[run.agent_env]``)."""

    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(1800.0, gt=0)
    memory_mb: int = Field(4096, gt=0)
    cpus: float = Field(2.0, gt=0)
    via: Literal["socket", "tcp"] = "socket"
    code_chars: int = Field(50_000, gt=0)
    log_chars: int = Field(30_000, ge=0)


class ProposerSettings(BaseModel):
    """``[run.proposers]``: one table per model proposer; only the chosen one is used.
    (The mutation proposer's operators and weights are ``[run.search]``.)"""

    # "self" is a Python keyword-ish name for a field: stored as self_, spelled "self" in
    # dgm.toml and in every dump, so a dumped config loads back unchanged.
    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    self_: SelfSettings = Field(default_factory=SelfSettings, alias="self")


class RayConfig(BaseModel):
    """Resources each evaluation asks of a Ray cluster (``[run.ray]``; see docs/ray.md)."""

    model_config = ConfigDict(extra="forbid")
    num_cpus: Optional[float] = Field(None, gt=0)
    num_gpus: Optional[float] = Field(None, ge=0)
    memory_mb: Optional[int] = Field(None, gt=0)
    max_retries: Optional[int] = Field(None, ge=0)
    scheduling: Optional[Literal["SPREAD", "DEFAULT"]] = None
    local_object_store_mb: Optional[int] = Field(None, gt=0)


class SearchConfig(BaseModel):
    """How the search spends its evaluations (``[run.search]``; see docs/search.md)."""

    model_config = ConfigDict(extra="forbid")
    # selection
    dgm_lambda: float = Field(10.0, gt=0, description="slope of the dgm/dgm2025 sigmoid")
    dgm_top_k: int = Field(3, ge=1, description="dgm: sigmoid centre = mean of the top-k scores")
    count_failed_children: bool = True  # rejected/failed/duplicate children lower a parent's weight
    qd_bins: int = Field(3, ge=1, description="qd: bins per behaviour dimension")
    qd_group_depth: int = Field(1, ge=1, description="qd: task-id components naming a pool")
    qd_compute: bool = True  # qd: evaluation seconds per task is one behaviour dimension
    novelty_weight: float = Field(0.5, ge=0, description="qd: weight of the novelty bonus")
    novelty_k: int = Field(3, ge=1, description="qd: neighbours in the novelty distance")
    # proposals
    bandit: bool = True  # Thompson sampling over operators from their success statistics
    crossover: bool = True
    operators: dict[str, float] = Field(default_factory=dict,
                                        description="prior weight per operator (0 disables)")
    success_z: float = Field(1.0, ge=0, description="a child beats its parent when the paired "
                             "gain exceeds z standard errors")
    # wasted evaluations
    dedup: bool = True
    precheck: bool = True
    # scheduling
    max_proposals: Optional[int] = Field(None, ge=1, description="concurrent proposals "
                                         "(default: share `workers` with evaluations)")
    max_evaluations: Optional[int] = Field(None, ge=1, description="concurrent evaluations "
                                           "(default: workers)")
    # admission and best-agent claims
    confirm_seeds: int = Field(2, ge=0, description="extra meta-train seeds for a possible best")
    confirm_margin: float = Field(0.0, ge=0, description="re-evaluate children scoring within "
                                  "this of the best")
    confidence: float = Field(0.95, gt=0, lt=1, description="level of the paired intervals")


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: Literal["metalearning", "coding"] = "metalearning"
    seed_agent: Optional[Path] = None
    suites: Optional[list[str]] = None
    proposer: Optional[Literal["mutation", "llm", "self"]] = None
    selection: Literal["dgm", "dgm2025", "score", "greedy", "random", "hgm", "weighted",
                       "qd"] = "dgm"
    admission: Literal["keep_all", "keep_better"] = "keep_all"
    admission_margin: float = Field(0.1, ge=0)
    children: int = Field(12, ge=0, description="budget: children to commit")
    wall_seconds: Optional[float] = Field(None, gt=0)
    workers: int = Field(2, ge=1, le=64)
    schedule: Literal["async", "generational"] = "async"
    generation_size: int = Field(2, ge=1)
    seed: int = 0
    sandbox: Literal["auto", "docker", "bwrap", "unsafe"] = "auto"
    device: str = Field("cpu", pattern=r"^(cpu|cuda(:[0-9]{1,2})?)$",
                        description="cpu, cuda or cuda:N")
    max_stages: Optional[int] = Field(None, ge=1)
    executor: Literal["local", "ray"] = "local"
    ray_address: Optional[str] = None
    ray: RayConfig = Field(default_factory=RayConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    proposers: ProposerSettings = Field(default_factory=ProposerSettings)
    # Extra environment for sandboxed agents (e.g. DGM_AGENT_MAX_STEPS), in evaluations and in
    # the self-modification run; nothing else from the host's environment reaches a sandbox.
    agent_env: dict[str, str] = Field(default_factory=dict)
    # Host faults (disk, git store, engine, endpoint) are retried after a backoff that starts
    # here and doubles; this many in a row of one cause stall the run (see dgm/faults.py).
    stall_after: int = Field(10, ge=1)
    fault_backoff_s: float = Field(0.5, ge=0)

    @model_validator(mode="after")
    def _domain_defaults(self) -> "RunConfig":
        d = DOMAIN_DEFAULTS[self.domain]
        if self.seed_agent is None:
            self.seed_agent = Path(d["seed_agent"])
        self.seed_agent = find_agent(self.seed_agent)
        if self.suites is None:
            self.suites = list(d["suites"])
        if self.proposer is None:
            self.proposer = d.get("proposer", "mutation")
        return self


def _allowed_at(loc: tuple) -> list[str]:
    """The keys allowed in the table holding ``loc``'s last key (nested tables included)."""
    model: Any = RunConfig
    for part in loc[:-1]:
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        ann = getattr(field, "annotation", None)
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return [f.alias or n for n, f in model.model_fields.items()]


def _explain(exc: ValidationError, where: str) -> ConfigError:
    first = exc.errors()[0]
    if first["type"] == "extra_forbidden":  # name what is allowed instead
        key = validation_error(exc, where).args[0].rsplit(":", 1)[0]
        allowed = _allowed_at(tuple(first["loc"]))
        return ConfigError(f"{key}: unknown key" + (f"; allowed keys: {', '.join(allowed)}"
                                                    if allowed else ""))
    return validation_error(exc, where)


def load_config(path: Path | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read ``dgm.toml`` (when it exists) and apply flag overrides (None values are ignored)."""
    data: dict[str, Any] = {}
    where = "flags"
    if path is not None:
        if not Path(path).is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            data = tomllib.loads(read_utf8(Path(path)))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        if "run" in data:
            others = sorted(k for k in data if k != "run")
            if others:  # e.g. a [gateway] table: it would be ignored, so say so
                raise ConfigError(f"{path}: unknown table [{others[0]}]: every setting lives "
                                  "under [run] (model and gateway settings under [run.model], "
                                  "proposer settings under [run.proposers.<name>])")
            data = data["run"]
        where = f"{path} (or its flag)"
    for key, value in (overrides or {}).items():
        if value is not None:
            if key.startswith(("model.", "search.")):
                table, sub = key.split(".", 1)
                data.setdefault(table, {})[sub] = value
            else:
                data[key] = value
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, where) from None
