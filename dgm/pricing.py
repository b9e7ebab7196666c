"""Token prices and the run's meter: usage and cost per label and per run, and the budget.

Prices are dollars per 1,000 tokens, looked up by exact model name first and
then by the longest configured prefix (so ``gpt-4o-mini`` prices the dated
``gpt-4o-mini-2024-07-18`` a provider may echo back). The defaults are public
list prices at the time of writing; a run's config overrides or extends them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt_per_1k: float = Field(ge=0)
    completion_per_1k: float = Field(ge=0)


# USD per 1k tokens (list prices, 2025). Override in dgm.toml [run.model.prices."<model>"].
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(prompt_per_1k=0.00015, completion_per_1k=0.0006),
    "gpt-4o": Price(prompt_per_1k=0.0025, completion_per_1k=0.01),
    "gpt-4.1-nano": Price(prompt_per_1k=0.0001, completion_per_1k=0.0004),
    "gpt-4.1-mini": Price(prompt_per_1k=0.0004, completion_per_1k=0.0016),
    "gpt-4.1": Price(prompt_per_1k=0.002, completion_per_1k=0.008),
    "o3-mini": Price(prompt_per_1k=0.0011, completion_per_1k=0.0044),
    "o4-mini": Price(prompt_per_1k=0.0011, completion_per_1k=0.0044),
}


def find_price(prices: dict[str, Price], model: str) -> Price | None:
    """The price of ``model``: exact name, else the longest prefix, else None."""
    if model in prices:
        return prices[model]
    best = max((name for name in prices if model.startswith(name)), key=len, default=None)
    return prices[best] if best else None


def cost_of(price: Price | None, prompt_tokens: int, completion_tokens: int) -> float:
    if price is None:
        return 0.0
    return (prompt_tokens * price.prompt_per_1k + completion_tokens * price.completion_per_1k) / 1000


@dataclass
class Tally:
    """Usage summed over calls (one label, or the whole run)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    models: set[str] = field(default_factory=set)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, model: str, prompt_tokens: int, completion_tokens: int, cost: float) -> None:
        self.calls += 1
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.cost += cost
        if model:
            self.models.add(model)

    def as_dict(self) -> dict:
        return {"calls": self.calls, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "cost": round(self.cost, 8),
                "models": sorted(self.models)}


class Meter:
    """Thread-safe usage ledger with an optional dollar and/or token budget.

    A call is refused once the budget is spent (``exhausted``). The call that
    crosses the line is allowed to finish: its cost is only known afterwards.
    """

    def __init__(self, budget_usd: float | None = None, budget_tokens: int | None = None):
        self.budget_usd = budget_usd
        self.budget_tokens = budget_tokens
        self.total = Tally()
        self.by_label: dict[str, Tally] = {}
        self._lock = threading.Lock()

    def record(self, label: str, model: str, prompt_tokens: int, completion_tokens: int,
               cost: float) -> None:
        with self._lock:
            self.total.add(model, prompt_tokens, completion_tokens, cost)
            self.by_label.setdefault(label, Tally()).add(model, prompt_tokens, completion_tokens, cost)

    def carry_over(self, prompt_tokens: int, completion_tokens: int, cost: float,
                   calls: int) -> None:
        """Count what the run spent before this meter existed (a resumed run): the budget
        is the run's, not the process's."""
        with self._lock:
            t = self.total
            t.calls += calls
            t.prompt_tokens += prompt_tokens
            t.completion_tokens += completion_tokens
            t.cost += cost

    def usage(self, label: str) -> Tally:
        with self._lock:
            t = self.by_label.get(label, Tally())
            return Tally(t.calls, t.prompt_tokens, t.completion_tokens, t.cost, set(t.models))

    @property
    def exhausted(self) -> bool:
        return self.why_exhausted() is not None

    def why_exhausted(self) -> str | None:
        """A sentence saying which budget is spent, or None while money is left."""
        with self._lock:
            if self.budget_usd is not None and self.total.cost >= self.budget_usd:
                return (f"the run's budget of ${self.budget_usd:g} is spent "
                        f"(${self.total.cost:.4f} over {self.total.calls} calls)")
            if self.budget_tokens is not None and self.total.tokens >= self.budget_tokens:
                return (f"the run's budget of {self.budget_tokens} tokens is spent "
                        f"({self.total.tokens} tokens over {self.total.calls} calls)")
        return None
