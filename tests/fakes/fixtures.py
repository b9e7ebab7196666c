"""pytest fixtures around the fake model server and the gateway (usable as a plugin).

Register with ``pytest_plugins = ["tests.fakes.fixtures"]`` in tests/conftest.py,
or import the fixtures into a directory's conftest.py.

* ``fake_openai``: a started FakeOpenAI; script it with ``fake_openai.push(...)``.
* ``gateway``: a started dgm Gateway forwarding to ``fake_openai`` with the real
  key ``REAL_KEY`` in its (private) environment; fast retries for tests.
* ``make_gateway(**config)``: the same with config overrides (budgets, ...).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from dgm.models.gateway import Gateway, GatewayConfig

from .fake_openai import FakeOpenAI

REAL_KEY = "sk-test-REAL-KEY-0123456789-must-never-reach-a-sandbox"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def make_gateway(fake_openai: FakeOpenAI) -> Iterator[Callable[..., Gateway]]:
    started: list[Gateway] = []

    def make(on_usage: Any = None, on_transcript: Any = None, **overrides: Any) -> Gateway:
        cfg: dict[str, Any] = {"base_url": fake_openai.url, "backoff_seconds": 0.01,
                               "max_backoff_seconds": 0.2, "timeout_seconds": 5.0,
                               "max_retries": 3, **overrides}
        gw = Gateway(GatewayConfig.model_validate(cfg), on_usage=on_usage,
                     on_transcript=on_transcript, environ={"OPENAI_API_KEY": REAL_KEY})
        started.append(gw.start())
        return gw

    yield make
    for gw in started:
        gw.stop()


@pytest.fixture
def gateway(make_gateway: Callable[..., Gateway]) -> Gateway:
    return make_gateway()
