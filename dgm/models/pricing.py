"""Token prices and the run's meter: usage and cost per label and per run, and the budget.

Prices are dollars per 1,000 tokens, looked up by exact model name first and
then by the longest configured prefix (so ``gpt-4o-mini`` prices the dated
``gpt-4o-mini-2024-07-18`` a provider may echo back). The defaults are public
list prices at the time of writing; a run's config overrides or extends them.
"""

from __future__ import annotations

import threading
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
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


PICO = 10 ** 12  # the meter's exact unit: a millionth of a millionth of a dollar


def to_pico(usd: float | Decimal | int, up: bool = True) -> int:
    """``usd`` in picodollars, exactly (Decimal of the float's binary value), rounded up or down."""
    exact = Decimal(usd) * PICO
    return int(exact.to_integral_value(ROUND_CEILING if up else ROUND_FLOOR))


def cost_pico(price: Price | None, prompt_tokens: int, completion_tokens: int) -> int:
    """The exact cost in picodollars (prices read as the decimals written in the config)."""
    if price is None:
        return 0
    per_1k = (Decimal(prompt_tokens) * Decimal(repr(price.prompt_per_1k))
              + Decimal(completion_tokens) * Decimal(repr(price.completion_per_1k)))
    return int((per_1k * PICO / 1000).to_integral_value(ROUND_CEILING))


class Meter:
    """Thread-safe usage ledger with an optional dollar and/or token budget, and reservations.

    Spending is kept exactly (integer picodollars) beside the float tallies shown
    to users. A call first ``reserve``s its worst-case cost and tokens; the
    reservation is refused when spent + reserved + this call would exceed a
    budget, so concurrent calls can never overspend together. After the call the
    reservation is ``settle``d to the real usage (or ``release``d when nothing
    was billed). ``record`` (no reservation) remains for callers outside the
    gateway's request path.
    """

    def __init__(self, budget_usd: float | None = None, budget_tokens: int | None = None):
        self.budget_usd = budget_usd
        self.budget_tokens = budget_tokens
        self.budget_pico = None if budget_usd is None else to_pico(budget_usd, up=False)
        self.total = Tally()
        self.by_label: dict[str, Tally] = {}
        self.spent_pico = 0
        self.reserved_pico = 0
        self.reserved_tokens = 0
        self.over_reservation = 0  # settled calls that cost more than they reserved
        self.starved: str | None = None  # set once a call can no longer fit (see reserve)
        self.largest = (0, 0)  # the largest worst case admitted (pico, tokens)
        self._reservations: dict[int, tuple[int, int]] = {}
        self._next = 0
        self._lock = threading.Lock()

    def record(self, label: str, model: str, prompt_tokens: int, completion_tokens: int,
               cost: float, cost_pico: int | None = None) -> None:
        with self._lock:
            self._add(label, model, prompt_tokens, completion_tokens, cost, cost_pico)

    def _add(self, label: str, model: str, prompt_tokens: int, completion_tokens: int,
             cost: float, pico: int | None) -> None:
        self.total.add(model, prompt_tokens, completion_tokens, cost)
        self.by_label.setdefault(label, Tally()).add(model, prompt_tokens, completion_tokens, cost)
        self.spent_pico += to_pico(cost) if pico is None else pico

    # reservations ------------------------------------------------------------
    def reserve(self, pico: int, tokens: int, floor: tuple[int, int] | None = None,
                like_admitted: bool = False) -> tuple[int | None, str | None]:
        """Hold ``pico`` and ``tokens`` against the budget: (reservation id, None) or (None, why).

        ``floor`` (picodollars, tokens): once a refused call's floor no longer fits what is
        left after spending (in-flight calls only ever add to it), the meter counts as
        exhausted, so the run stops starting jobs. ``like_admitted``: the floor is this
        call's worst case, but no more than the largest worst case admitted so far (and
        no less than ``floor``), so an unusually large call cannot end the budget alone.
        """
        with self._lock:
            rid, why = self._reserve(pico, tokens)
            if rid is not None:
                self.largest = (max(self.largest[0], pico), max(self.largest[1], tokens))
            elif floor is not None:
                if like_admitted:
                    floor = (max(floor[0], min(pico, self.largest[0])),
                             max(floor[1], min(tokens, self.largest[1])))
                money = self.budget_pico is not None and \
                    self.budget_pico - self.spent_pico < floor[0]
                count = self.budget_tokens is not None and \
                    self.budget_tokens - self.total.tokens < floor[1]
                if money or count:
                    self.starved = f"the run's budget is spent: {why}"
            return rid, why

    def _reserve(self, pico: int, tokens: int) -> tuple[int | None, str | None]:
        """Called with the lock held."""
        if self.budget_pico is not None and \
                self.spent_pico + self.reserved_pico + pico > self.budget_pico:
            left = max(0, self.budget_pico - self.spent_pico - self.reserved_pico)
            return None, (f"the call's worst-case cost ${pico / PICO:.6f} does not fit what is "
                          f"left of the run's budget of ${self.budget_usd:g} "
                          f"(${left / PICO:.6f} after spending and calls in flight)")
        if self.budget_tokens is not None and \
                self.total.tokens + self.reserved_tokens + tokens > self.budget_tokens:
            left = max(0, self.budget_tokens - self.total.tokens - self.reserved_tokens)
            return None, (f"the call's worst case of {tokens} tokens does not fit what is "
                          f"left of the run's budget of {self.budget_tokens} tokens ({left})")
        self._next += 1
        self._reservations[self._next] = (pico, tokens)
        self.reserved_pico += pico
        self.reserved_tokens += tokens
        return self._next, None

    def _drop(self, rid: int) -> tuple[int, int]:
        pico, tokens = self._reservations.pop(rid)
        self.reserved_pico -= pico
        self.reserved_tokens -= tokens
        return pico, tokens

    def release(self, rid: int) -> None:
        """Nothing was billed: give the reservation back."""
        with self._lock:
            self._drop(rid)

    def settle(self, rid: int, label: str, model: str, prompt_tokens: int,
               completion_tokens: int, pico: int) -> bool:
        """Replace the reservation by the real usage; False if it cost more than reserved."""
        with self._lock:
            held, tokens = self._drop(rid)
            self._add(label, model, prompt_tokens, completion_tokens, pico / PICO, pico)
            within = pico <= held and prompt_tokens + completion_tokens <= tokens
            if not within:
                self.over_reservation += 1
            return within

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
            self.spent_pico += to_pico(cost)

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
            if self.starved:
                return self.starved
            if self.budget_pico is not None and self.spent_pico >= self.budget_pico:
                return (f"the run's budget of ${self.budget_usd:g} is spent "
                        f"(${self.total.cost:.4f} over {self.total.calls} calls)")
            if self.budget_tokens is not None and self.total.tokens >= self.budget_tokens:
                return (f"the run's budget of {self.budget_tokens} tokens is spent "
                        f"({self.total.tokens} tokens over {self.total.calls} calls)")
        return None
