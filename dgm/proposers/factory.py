"""Build the configured proposer by name."""

from __future__ import annotations

from ..errors import ConfigError
from .base import Proposer


def make_proposer(name: str, config=None, gateway=None) -> Proposer:
    if name == "mutation":
        from .mutation import MutationProposer
        return MutationProposer()
    if name in ("llm", "self"):
        if config is None or config.model.base_url is None:
            raise ConfigError(f"proposer {name!r} needs a model endpoint: set [run.model] base_url "
                              "in dgm.toml or pass --model-url URL (and the key in $OPENAI_API_KEY)")
        if name == "llm":
            from .llm import LLMProposer
            return LLMProposer.from_config(config, gateway)
        from .selfmod import SelfProposer
        return SelfProposer.from_config(config, gateway)
    raise ConfigError(f"unknown proposer {name!r}; choose one of mutation, llm, self")
