"""Build the configured proposer by name."""

from __future__ import annotations

from ..errors import ConfigError
from .base import Proposer

MODEL_PROPOSERS = ("llm", "self")


def check_proposer(name: str, config) -> None:
    """Fail before anything starts when the proposer cannot work (e.g. no endpoint)."""
    if name not in ("mutation", *MODEL_PROPOSERS):
        raise ConfigError(f"unknown proposer {name!r}; choose one of mutation, llm, self")
    needs_model = name in MODEL_PROPOSERS or getattr(config, "domain", None) == "coding"
    if needs_model and (config is None or config.model.base_url is None):
        what = f"proposer {name!r}" if name in MODEL_PROPOSERS else "the coding domain"
        raise ConfigError(f"{what} needs a model endpoint: set base_url under [run.model] in "
                          "dgm.toml or pass --model-url URL (the key goes in $OPENAI_API_KEY "
                          "on the host, or set api_key_env = \"\" for a local server)")


def make_proposer(name: str, config=None, access=None, image: str | None = None) -> Proposer:
    """The proposer; model proposers need the running gateway's ``access``."""
    check_proposer(name, config)
    settings = getattr(config, "proposers", None)  # [run.proposers.<name>] of dgm.toml
    if name == "mutation":
        from .mutation import MutationProposer
        return MutationProposer(dict(settings.mutation.weights) if settings else None)
    if access is None:
        raise ConfigError(f"proposer {name!r} needs the model gateway to be running")
    if name == "llm":
        from .llm import LLMProposer, LLMProposerConfig
        return LLMProposer(access, LLMProposerConfig(**settings.llm.model_dump()) if settings else None)
    from .selfmod import SelfProposer, SelfProposerConfig
    # [run.agent_env] reaches the self-modification run as it reaches evaluations.
    return SelfProposer(access, SelfProposerConfig(
        image=image or "dgm-sandbox", extra_env=dict(getattr(config, "agent_env", None) or {}),
        **(settings.self_.model_dump() if settings else {})))
