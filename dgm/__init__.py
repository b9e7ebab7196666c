"""dgm: open-ended, self-improving agent evolution over a git-backed archive.

The public API (documented in docs/api.md; everything else is internal and may change)::

    import dgm
    run = dgm.Run(dgm.RunConfig(children=6), archive="archive/demo")
    summary = run.start()                 # or .resume(); .stop() from another thread
    with dgm.open_archive("archive/demo") as a:
        print(a.best(), a.spend())

Names are imported on first use, so ``import dgm`` stays fast (no pydantic, git or torch).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Run": "dgm.api",
    "replay": "dgm.replay",  # the module, callable as dgm.api.replay (see dgm/replay.py)
    "RunSummary": "dgm.engine.launch",
    "RunConfig": "dgm.config",
    "ModelConfig": "dgm.config",
    "RayConfig": "dgm.config",
    "load_config": "dgm.config",
    "open_archive": "dgm.archive.view",
    "ArchiveView": "dgm.archive.view",
    "Spend": "dgm.archive.view",
    "Agent": "dgm.archive.store",
    "load_suite": "dgm.suites",
    "DgmError": "dgm.errors",
    "ConfigError": "dgm.errors",
    "NotAnArchive": "dgm.errors",
    "UnknownAgent": "dgm.errors",
    "ArchiveLocked": "dgm.errors",
    "UnsafeTree": "dgm.errors",
}

__all__ = [
    "Agent", "ArchiveLocked", "ArchiveView", "ConfigError", "DgmError", "ModelConfig", "NotAnArchive",
    "RayConfig", "Run", "RunConfig", "RunSummary", "Spend", "UnknownAgent", "UnsafeTree", "__version__",
    "load_config", "load_suite", "open_archive", "replay",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dgm' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if name == "replay" else getattr(mod, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # for type checkers and IDEs; never executed
    from dgm.api import Run, replay
    from dgm.archive.store import Agent
    from dgm.archive.view import ArchiveView, Spend, open_archive
    from dgm.config import ModelConfig, RayConfig, RunConfig, load_config
    from dgm.errors import ArchiveLocked, ConfigError, DgmError, NotAnArchive, UnknownAgent, UnsafeTree
    from dgm.engine.launch import RunSummary
    from dgm.suites import load_suite
