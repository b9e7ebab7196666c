"""A run's local model: used when model proposers (or the coding domain) have no endpoint.

``check(cfg)`` fails before anything starts, in one line, when the model or the
server package is missing. ``start(cfg, log)`` starts a fresh server for the run;
``gateway_overrides`` points the run's gateway at it exactly as at a hosted
endpoint (no key, every role served by the local model, prices of 0), so the
gateway's metering, budgets and transcripts apply unchanged.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from dgm.errors import ConfigError
from dgm.models.local.install import installed
from dgm.models.local.registry import ModelSpec, spec
from dgm.models.local.server import LocalServer


def uses_local(cfg: Any) -> bool:
    return getattr(getattr(cfg, "model", None), "base_url", None) is None


def local_spec(cfg: Any) -> ModelSpec:
    return spec(getattr(cfg.model, "local_model", None))


def check(cfg: Any, what: str) -> ModelSpec:
    """The spec to serve; ConfigError (one line) when it cannot be served here."""
    s = local_spec(cfg)
    if importlib.util.find_spec("xllamacpp") is None:
        raise ConfigError(f"{what} needs a model: no endpoint is configured (--model-url) and the "
                          "local llama.cpp server is not installed (pip install -e '.[model]' or "
                          "make setup), or set base_url under [run.model]")
    if installed(s) is None:
        raise ConfigError(f"{what} needs a model: no endpoint is configured (--model-url) and the "
                          f"local model {s.name} is not installed: run `dgm model install {s.name}`, "
                          "or set base_url under [run.model]")
    return s


def start(cfg: Any, log=lambda line: None, parallel: int = 1) -> LocalServer:
    s = local_spec(cfg)
    log(f"model: no endpoint configured; starting the local model {s.name} "
        f"({s.params} params, {s.license})")
    return LocalServer(s, parallel=parallel, log=log).start()


def gateway_overrides(server: LocalServer) -> dict[str, Any]:
    name = server.spec.name
    return {"base_url": server.base_url, "api_key_env": "",
            "models": {"propose": name, "diagnose": name, "agent": name},
            "prices": {name: {"prompt_per_1k": 0.0, "completion_per_1k": 0.0}},
            "timeout_seconds": 900.0}  # a CPU model answers slowly; a timeout would only retry
