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

This module is the one import surface of a suite author (see docs/extending.md): everything
in ``__all__`` is public and stays; ``dgm suite check PATH`` runs :func:`check_suite`.
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

from dgm.agents import AgentManifest, load_manifest
from dgm.errors import ConfigError, DgmError, validation_error
from dgm.resources import data_root
from dgm.sandbox.base import Limits, Mount, RunResult, Sandbox
from dgm.textfiles import read_utf8

__all__ = [
    "AgentManifest", "EvalContext", "Limits", "LimitsSpec", "Mount", "RunResult", "Sandbox",
    "StageOutcome", "StageSpec", "Suite", "SuiteSpec", "TaskResult", "check_suite",
    "known_suites", "load_manifest", "load_spec", "load_suite",
]
DOMAINS = ("coding", "metalearning")  # the agent domains (dgm.agents.REQUIRED_COMMANDS)

REPO_ROOT = data_root()  # the checkout, or the wheel's dgm/_shipped (see dgm.resources)
EVALUATORS = REPO_ROOT / "evaluators"
ENTRY_POINT_GROUP = "dgm.suites"  # other packages' suites: name = "pkg.module_with_suite_toml"


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


def _entry_point_dir(value: str) -> Path | None:
    """The directory of an entry point's module, found without running the module."""
    try:
        spec = importlib.util.find_spec(value.split(":", 1)[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:  # a package: its own directory
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def known_suites() -> dict[str, Path]:
    """Suite name -> directory: those shipped with dgm (``evaluators/``), then those other
    installed packages declare in the ``dgm.suites`` entry-point group."""
    out = {d.name: d for d in sorted(EVALUATORS.iterdir()) if (d / "suite.toml").is_file()} \
        if EVALUATORS.is_dir() else {}
    from importlib.metadata import entry_points
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        d = _entry_point_dir(ep.value)
        if d is not None and (d / "suite.toml").is_file():
            out.setdefault(ep.name, d)
    return out


def find_suite_dir(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if (p / "suite.toml").is_file():
        return p.resolve()
    if (EVALUATORS / name_or_path / "suite.toml").is_file():
        return EVALUATORS / name_or_path
    known = known_suites()
    if name_or_path in known:
        return known[name_or_path]
    raise ConfigError(f"unknown suite {name_or_path!r}; known suites: {', '.join(sorted(known)) or 'none'}"
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


def check_suite(name_or_path: str) -> tuple[Suite, list[str]]:
    """Validate a suite without running an agent: its suite.toml, its scorer and what
    ``make_suite`` returns. Returns the loaded suite (or raises ConfigError when it cannot
    be loaded at all) and a list of problems, empty when it is fit to run."""
    spec = load_spec(name_or_path)
    problems = []
    if spec.domain not in DOMAINS:
        problems.append(f"domain {spec.domain!r} is not one of {', '.join(DOMAINS)}")
    if not spec.stages:
        problems.append("no [[stages]]: a suite needs at least one stage")
    names = [st.name for st in spec.stages]
    if len(set(names)) != len(names):
        problems.append(f"stage names repeat: {names}")
    for i, st in enumerate(spec.stages[1:], 2):
        if not 0.0 <= st.threshold <= 1.0:
            problems.append(f"stage {i} {st.name}: threshold {st.threshold} is outside [0, 1] "
                            "(scores are in [0, 1], so it could never, or always, be met)")
    if not (spec.path / spec.scorer).is_file():
        raise ConfigError(f"suite {spec.name}: scorer {spec.path / spec.scorer} does not exist")
    try:
        suite = load_suite(str(spec.path))
    except DgmError:
        raise
    except Exception as exc:  # the author's code: name what broke, in one line
        raise ConfigError(f"suite {spec.name}: loading {spec.scorer} failed: "
                          f"{type(exc).__name__}: {exc}") from None
    if not isinstance(suite, Suite):
        raise ConfigError(f"suite {spec.name}: make_suite(spec) returned {type(suite).__name__}, "
                          "not a dgm.suites.Suite")
    if suite.name != spec.name:
        problems.append(f"make_suite returned a suite named {suite.name!r}, not {spec.name!r}")
    return suite, problems
