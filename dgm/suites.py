"""Benchmark suites: ``evaluators/<suite>/suite.toml`` plus a host-side scorer.

suite.toml::

    name = "icl"
    domain = "metalearning"
    image = "dgm-sandbox"           # sandbox image the harness runs in
    scorer = "scorer.py"            # host-side, trusted; defines make_suite(spec)
    [limits]                        # defaults for every sandboxed call (see Limits)
    seconds = 120
    [[stages]]
    name = "smoke"
    threshold = 0.0                 # needed on the *previous* stage to enter this one
    [stages.params]                 # free-form, read by the suite
    pools = ["digits_heldout", "wine"]

A suite's ``evaluate`` runs one stage of one agent and returns per-task results
with scores in [0, 1]. It must not raise for a broken agent: a crash, a
timeout or garbage output is a score of 0 with the reason in the task's log.
"""

from __future__ import annotations

import abc
import importlib.util
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError, validation_error
from .sandbox.base import Limits, Mount, Sandbox
from .textfiles import read_utf8

REPO_ROOT = Path(__file__).resolve().parent.parent
EVALUATORS = REPO_ROOT / "evaluators"


@dataclass
class TaskResult:
    task_id: str
    score: float
    resolved: bool
    seconds: float = 0.0
    log: str = ""


TAMPERING = "tampering: "  # a task log line starting so: the grader caught the answer forging its grade


def tampering(log: str | None) -> str | None:
    """The tampering reason recorded in a task's log, or None."""
    for line in (log or "").splitlines():
        at = line.find(TAMPERING)
        if at >= 0 and (at == 0 or line[at - 2:at] == "; "):
            return line[at + len(TAMPERING):].strip()
    return None


@dataclass
class StageOutcome:
    results: list[TaskResult]
    artifacts: dict[str, str] = field(default_factory=dict)  # name -> text, readable by proposers
    image_digest: str | None = None

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results) / len(self.results) if self.results else 0.0


@dataclass
class EvalContext:
    """Everything a suite needs to evaluate one agent at one stage."""

    sandbox: Sandbox
    workdir: Path  # host scratch dir for this evaluation; the suite may mount parts of it
    seed: int = 0
    device: str = "cpu"
    image: str | None = None  # overrides the suite's image (e.g. a content-hashed tag)
    env: dict[str, str] = field(default_factory=dict)  # extra allow-listed env (e.g. gateway URL)
    network: str | None = None
    mounts: list[Mount] = field(default_factory=list)  # extra read-only mounts (e.g. the gateway socket)
    # The archive's secret (Archive.eval_secret): host-only, never passed into a sandbox.
    # Suites that generate hidden tasks salt them with it (icl); None: the suite's own default.
    secret: str | None = None
    log: Callable[[str], None] = lambda line: None


class StageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    threshold: float = 0.0
    params: dict[str, Any] = Field(default_factory=dict)


class LimitsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = 600.0
    memory_mb: int = 4096
    cpus: float = 2.0
    pids: int = 256
    file_size_mb: int = 1024
    scratch_mb: int = 2048

    def to_limits(self, **override: Any) -> Limits:
        return Limits(**{**self.model_dump(), **override})


class SuiteSpec(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    domain: str
    image: str = "dgm-sandbox"
    scorer: str = "scorer.py"
    description: str = ""
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    stages: list[StageSpec]
    path: Path = Path(".")  # the suite's directory, filled in by load_spec


class Suite(abc.ABC):
    """A suite's host-side half. Subclasses live in ``evaluators/<suite>/scorer.py``."""

    def __init__(self, spec: SuiteSpec):
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def stages(self) -> list[StageSpec]:
        return self.spec.stages

    @abc.abstractmethod
    def evaluate(self, agent_dir: Path, stage: int, ctx: EvalContext) -> StageOutcome:
        """Evaluate the agent checked out at ``agent_dir`` on stage ``stage`` (0-based)."""


def find_suite_dir(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if (p / "suite.toml").is_file():
        return p.resolve()
    if (EVALUATORS / name_or_path / "suite.toml").is_file():
        return EVALUATORS / name_or_path
    known = sorted(d.name for d in EVALUATORS.iterdir() if (d / "suite.toml").is_file()) \
        if EVALUATORS.is_dir() else []
    raise ConfigError(f"unknown suite {name_or_path!r}; known suites: {', '.join(known) or 'none'}"
                      " (or give a path to a directory with a suite.toml)")


def load_spec(name_or_path: str) -> SuiteSpec:
    d = find_suite_dir(name_or_path)
    try:
        data = tomllib.loads(read_utf8(d / "suite.toml"))
        spec = SuiteSpec.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{d / 'suite.toml'}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise validation_error(exc, str(d / "suite.toml")) from None
    spec.path = d
    return spec


def load_suite(name_or_path: str) -> Suite:
    """Load a suite by name (``evaluators/<name>``) or by path to its directory."""
    spec = load_spec(name_or_path)
    scorer = spec.path / spec.scorer
    mod_name = f"dgm_suite_{spec.name.replace('-', '_')}"
    if mod_name in sys.modules:
        module = sys.modules[mod_name]
    else:
        s = importlib.util.spec_from_file_location(mod_name, scorer)
        if s is None or s.loader is None:
            raise ConfigError(f"suite {spec.name}: cannot load scorer {scorer}")
        module = importlib.util.module_from_spec(s)
        sys.modules[mod_name] = module
        try:
            s.loader.exec_module(module)
        except Exception as exc:  # the suite's host half is broken: say so, in one line
            del sys.modules[mod_name]
            raise ConfigError(f"suite {spec.name}: its scorer {scorer} fails to import: "
                              f"{type(exc).__name__}: {exc}") from None
    if not hasattr(module, "make_suite"):
        raise ConfigError(f"suite {spec.name}: {scorer} defines no make_suite(spec)")
    return module.make_suite(spec)
