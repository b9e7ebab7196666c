"""Build the configured proposer by name."""

from __future__ import annotations

from dgm.errors import ConfigError
from dgm.proposers.base import Proposer

MODEL_PROPOSERS = ("llm", "self")


def check_proposer(name: str, config) -> None:
    """Fail before anything starts when the proposer cannot work (e.g. no endpoint)."""
    if name not in ("mutation", *MODEL_PROPOSERS):
        raise ConfigError(f"unknown proposer {name!r}; choose one of mutation, llm, self")
    needs_model = name in MODEL_PROPOSERS or getattr(config, "domain", None) == "coding"
    if needs_model and config is not None and config.model.base_url is None:
        from dgm.models.local import runtime  # no endpoint: the run serves the local model
        what = f"proposer {name!r}" if name in MODEL_PROPOSERS else "the coding domain"
        runtime.check(config, what)
    elif needs_model and config is None:
        what = f"proposer {name!r}" if name in MODEL_PROPOSERS else "the coding domain"
        raise ConfigError(f"{what} needs a model endpoint: set base_url under [run.model] in "
                          "dgm.toml or pass --model-url URL (the key goes in $OPENAI_API_KEY "
                          "on the host, or set api_key_env = \"\" for a local server)")


def make_proposer(name: str, config=None, access=None, image: str | None = None) -> Proposer:
    """The proposer; model proposers need the running gateway's ``access``."""
    check_proposer(name, config)
    settings = getattr(config, "proposers", None)  # [run.proposers.<name>] of dgm.toml
    if name == "mutation":
        from dgm.proposers.mutation import WEIGHTS, MutationProposer
        search = getattr(config, "search", None)
        if search is None:
            return MutationProposer()
        unknown = set(search.operators) - set(WEIGHTS)
        if unknown:
            raise ConfigError(f"search.operators: unknown operator {sorted(unknown)[0]!r}; "
                              f"choose among {', '.join(WEIGHTS)}")
        return MutationProposer({**WEIGHTS, **search.operators}, bandit=search.bandit,
                                crossover=search.crossover)
    if access is None:
        raise ConfigError(f"proposer {name!r} needs the model gateway to be running")
    local = _local_spec(config)
    if name == "llm":
        from dgm.proposers.llm import LLMProposer, LLMProposerConfig
        if local is None:
            return LLMProposer(access, LLMProposerConfig(**settings.llm.model_dump()) if settings else None)
        return LLMProposer(access, LLMProposerConfig(  # a small model: focused and constrained
            focused=True, constrained=True, prompt_tokens=local.prompt_tokens,
            max_tokens=local.answer_tokens, max_edits=local.max_edits,
            single_line=local.single_line, space_share=local.space_share))
    from dgm.proposers.selfmod import SelfProposer, SelfProposerConfig
    # [run.agent_env] reaches the self-modification run as it reaches evaluations.
    agent_env = dict(getattr(config, "agent_env", None) or {})
    chosen = settings.self_.model_dump() if settings else {}
    if local is None:
        return SelfProposer(access, SelfProposerConfig(image=image or "dgm-sandbox", extra_env=agent_env,
                                                       **chosen))
    chosen.update(code_chars=local.prompt_tokens * 3, log_chars=local.prompt_tokens)
    return SelfProposer(access, SelfProposerConfig(
        image=image or "dgm-sandbox", focused=True, diagnose_tokens=local.answer_tokens,
        extra_env={**local.agent_env, **agent_env}, **chosen))


def _local_spec(config):
    """The local model's spec when the run serves one (no endpoint configured), else None."""
    if config is None or getattr(config.model, "base_url", None) is not None:
        return None
    from dgm.models.local.runtime import local_spec
    return local_spec(config)
