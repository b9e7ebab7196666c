"""Where dgm finds what it ships besides its code, and where archives go by default.

In a checkout the seed agents (``agents/``), the suites (``evaluators/``), the sandbox's
in-container runner (``sandbox/``) and the ``Dockerfile`` sit beside the ``dgm`` package. An
installed wheel carries copies of them under ``dgm/_shipped/`` (setup.py puts them there), so
``dgm run`` works from any directory. Suites of other packages are found through the
``dgm.suites`` entry-point group (see docs/extending.md).
"""

from __future__ import annotations

import os
import time
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SHIPPED = ("agents", "evaluators", "image", "Dockerfile")


@lru_cache(maxsize=1)
def data_root() -> Path:
    """The directory holding agents/, evaluators/, sandbox/ and the Dockerfile."""
    checkout = PACKAGE.parent
    if (checkout / "evaluators").is_dir() and (checkout / "image").is_dir():
        return checkout
    return PACKAGE / "_shipped"


def shipped(*parts: str) -> Path:
    """A path under :func:`data_root`, e.g. ``shipped("agents", "metalearner")``."""
    return data_root().joinpath(*parts)


def archive_root() -> Path:
    """Where new archives go by default: ``$DGM_ARCHIVE_ROOT`` or ``./archive``."""
    return Path(os.environ.get("DGM_ARCHIVE_ROOT", "archive"))


def new_archive_path() -> Path:
    return archive_root() / time.strftime("%Y%m%d-%H%M%S")
