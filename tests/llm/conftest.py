"""Fixtures for the foundation-model tests: the fake server and gateway (tests/fakes)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # so `tests.fakes` imports however pytest was started
    sys.path.insert(0, str(ROOT))

from tests.fakes.fixtures import REAL_KEY, fake_openai, gateway, make_gateway  # noqa: E402,F401
