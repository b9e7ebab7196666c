"""Money: a Decimal amount in cents precision plus an ISO currency code."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


class CurrencyMismatch(ValueError):
    pass


class Money:
    __slots__ = ("amount", "currency")

    def __init__(self, amount, currency="EUR"):
        self.amount = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
        self.currency = currency

    def _check(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} vs {other.currency}")
        return None

    def __add__(self, other):
        if self._check(other) is NotImplemented:
            return NotImplemented
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other):
        if self._check(other) is NotImplemented:
            return NotImplemented
        return Money(self.amount - other.amount, self.currency)

    def __eq__(self, other):
        return (isinstance(other, Money) and self.amount == other.amount
                and self.currency == other.currency)

    def __hash__(self):
        return hash((self.amount, self.currency))

    def __repr__(self):
        return f"Money('{self.amount}', '{self.currency}')"

    def split(self, parts):
        """Divide into ``parts`` shares."""
        if parts < 1:
            raise ValueError("parts must be at least 1")
        share = (self.amount / parts).quantize(CENT, rounding=ROUND_HALF_UP)
        return [Money(share, self.currency) for _ in range(parts)]
