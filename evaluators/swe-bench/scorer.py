"""swe-bench: SWE-bench-format instance files over a local mirror of the repositories.

Host side, trusted. The suite is swe-mini's (same agent contract, same
hardened grader: ``codingkit/swegrade.py`` + ``harness/grade.py``) over other
tasks: instances read from the user's JSON/JSONL (``codingkit/swebench.py``),
testbeds exported from the mirror (``codingkit/mirror.py``), a per-repository
spec (``specs.toml``, ``codingkit/repospecs.py``), and stages from a preset
(``codingkit/datasets.py``). Options and data: docs/coding-suites.md.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Optional

from dgm.errors import ConfigError
from dgm.suites import SuiteSpec

HERE = Path(__file__).resolve().parent
SWE_MINI_SCORER = HERE.parent / "swe-mini" / "scorer.py"


def _swe_mini():
    """swe-mini's scorer module (it loads the shared codingkit), under load_suite's name."""
    name = "dgm_suite_swe_mini"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SWE_MINI_SCORER)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


SweMiniSuite = _swe_mini().SweMiniSuite
from dgm_codingkit import stage as _stage  # noqa: E402
from dgm_codingkit.datasets import DatasetOptions, configure_stages, read_options  # noqa: E402
from dgm_codingkit.mirror import Mirror  # noqa: E402
from dgm_codingkit.repospecs import SpecTable  # noqa: E402
from dgm_codingkit.swebench import SweBenchInstance, read_instances  # noqa: E402

ENV_PREFIX = "DGM_SWEBENCH"


class SweBenchOptions(DatasetOptions):
    instances: Optional[Path] = None
    repos: Optional[Path] = None
    specs: Optional[Path] = None
    cache: Optional[Path] = None


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dgm" / "swe-bench"


class SweBenchSuite(SweMiniSuite):
    """SweMiniSuite's evaluate / grade / grade_many over SWE-bench instances."""

    def __init__(self, spec: SuiteSpec):
        opts = read_options(spec, ENV_PREFIX, SweBenchOptions)
        if opts.instances is None or opts.repos is None:
            raise ConfigError(f"suite {spec.name}: say where the data is: {ENV_PREFIX}_INSTANCES "
                              f"(a SWE-bench JSON/JSONL file) and {ENV_PREFIX}_REPOS (a directory of "
                              "clones or bundles), or [dataset] in suite.toml (docs/coding-suites.md)")
        mirror = Mirror(opts.repos, opts.cache or default_cache())
        table = SpecTable([HERE / "specs.toml"] + ([opts.specs] if opts.specs else []))
        self.tasks: dict[str, SweBenchInstance] = {}
        self.unsupported: dict[str, str] = {}
        for inst in read_instances(opts.instances):
            try:
                inst.spec = table.spec_for(inst.repo, inst.version)
            except ConfigError as exc:
                self.unsupported[inst.instance_id] = str(exc)
                continue
            inst.mirror = mirror
            self.tasks[inst.instance_id] = inst
        asked = [t for t in (opts.ids or []) if t in self.unsupported]
        if asked:
            raise ConfigError(f"suite {spec.name}: {asked[0]}: {self.unsupported[asked[0]]}")
        if not self.tasks:
            raise ConfigError(f"suite {spec.name}: no gradable instances in {opts.instances}"
                              + (f" ({next(iter(self.unsupported.values()))})" if self.unsupported else ""))
        super(SweMiniSuite, self).__init__(configure_stages(spec, list(self.tasks), opts))
        self.options = opts
        self.agent_settings, self.grading = _stage.settings(self.spec)


def make_suite(spec: SuiteSpec) -> SweBenchSuite:
    return SweBenchSuite(spec)
