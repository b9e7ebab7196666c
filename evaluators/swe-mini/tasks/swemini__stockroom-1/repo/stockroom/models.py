"""Inventory items."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


class ValidationError(ValueError):
    pass


@dataclass
class Item:
    sku: str
    name: str
    price: Decimal
    quantity: int = 0
    added: dt.date = field(default_factory=dt.date.today)

    def __post_init__(self):
        if not self.sku or not self.sku.isalnum():
            raise ValidationError(f"sku must be alphanumeric, got {self.sku!r}")
        if self.price < 0:
            raise ValidationError("price must not be negative")
        if self.quantity < 0:
            raise ValidationError("quantity must not be negative")

    @property
    def value(self):
        return self.price * self.quantity

    def to_dict(self):
        return {"sku": self.sku, "name": self.name, "price": self.price,
                "quantity": self.quantity, "added": self.added}

    @classmethod
    def from_dict(cls, data):
        return cls(**data)
