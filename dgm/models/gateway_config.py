"""The gateway's configuration, built from dgm.toml's ``[run.model]`` (dgm.config.ModelConfig)."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dgm.errors import validation_error
from dgm.models.gateway_routes import DEFAULT_ENDPOINTS, RouteTable
from dgm.models.pricing import DEFAULT_PRICES, Price, find_price


class ModelRoles(BaseModel):
    model_config = ConfigDict(extra="forbid")
    propose: str = "gpt-4o-mini"
    diagnose: str = "gpt-4o-mini"
    agent: str = "gpt-4o-mini"


class GatewayConfig(BaseModel):
    """The gateway's settings (documented in docs/llm.md); from dgm.toml via from_run_model."""

    model_config = ConfigDict(extra="forbid")
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"  # "" for endpoints without a key (a local server)
    models: ModelRoles = Field(default_factory=ModelRoles)
    prices: dict[str, Price] = Field(default_factory=dict)  # merged over DEFAULT_PRICES
    budget_usd: float | None = Field(default=None, gt=0)
    budget_tokens: int | None = Field(default=None, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    backoff_seconds: float = Field(default=1.0, ge=0)
    max_backoff_seconds: float = Field(default=30.0, ge=0)
    timeout_seconds: float = Field(default=300.0, gt=0)
    max_request_mb: float = Field(default=16.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)  # extra upstream headers
    socket_dir: str | None = None  # default: a fresh private temp dir
    tcp_host: str | None = None  # also listen on TCP (e.g. a docker network's gateway IP)
    tcp_port: int = 0
    transcript_dir: str | None = None  # also append JSONL transcripts here
    # What may be forwarded (dgm/models/gateway_routes.py): "METHOD /v1/path", nothing else.
    endpoints: list[str] = Field(default_factory=lambda: list(DEFAULT_ENDPOINTS))
    # The worst case reserved per call (dgm/models/gateway_budget.py).
    max_output_tokens: int = Field(default=4096, ge=1)
    max_choices: int = Field(default=1, ge=1, le=16)
    media_part_tokens: int = Field(default=3000, ge=0)
    chat_max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    max_concurrent_per_label: int = Field(default=8, ge=1)
    read_timeout_seconds: float = Field(default=60.0, gt=0)  # per socket read from a caller

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, value: list[str]) -> list[str]:
        RouteTable(value)  # raises ValueError naming the bad entry
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        u = urlsplit(value)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"base_url {value!r} must be an http(s) URL with a host")
        if u.username or u.password or u.query or u.fragment:
            raise ValueError(f"base_url {value!r} must not hold credentials, a query or a fragment")
        return value

    @model_validator(mode="after")
    def _priced_when_budgeted(self) -> "GatewayConfig":
        if self.budget_usd is not None:
            table = self.price_table()
            unpriced = sorted({m for m in self.models.model_dump().values()
                               if find_price(table, m) is None})
            if unpriced:
                raise ValueError(f"budget_usd needs a price for {unpriced}: add "
                                 "[run.model.prices.\"<model>\"] with prompt_per_1k and "
                                 "completion_per_1k to dgm.toml")
        return self

    def price_table(self) -> dict[str, Price]:
        return {**DEFAULT_PRICES, **self.prices}

    @classmethod
    def from_run_model(cls, model: Any, **overrides: Any) -> "GatewayConfig":
        """Build from dgm.toml's ``[run.model]`` (dgm.config.ModelConfig: flat *_model keys,
        ``timeout_s``); raises ConfigError naming the bad key."""
        data: dict[str, Any] = {
            "api_key_env": model.api_key_env,
            "models": {"propose": model.propose_model, "diagnose": model.diagnose_model,
                       "agent": model.agent_model},
            "budget_usd": model.budget_usd, "budget_tokens": model.budget_tokens,
            "prices": model.prices or {},
        }
        if getattr(model, "base_url", None):
            data["base_url"] = model.base_url
        if getattr(model, "timeout_s", None):
            data["timeout_seconds"] = model.timeout_s
        from dgm.config import GATEWAY_KEYS  # the gateway tuning keys of [run.model]
        data.update({k: getattr(model, k) for k in GATEWAY_KEYS
                     if getattr(model, k, None) not in (None, {})})
        data.update(overrides)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise validation_error(exc, "run.model") from None
