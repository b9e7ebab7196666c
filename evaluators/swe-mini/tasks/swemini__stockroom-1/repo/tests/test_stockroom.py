import datetime as dt
from decimal import Decimal

import pytest

from stockroom import Item, ValidationError


def make(**kw):
    args = {"sku": "A1", "name": "bolt", "price": Decimal("0.10"), "quantity": 5,
            "added": dt.date(2024, 1, 2)}
    args.update(kw)
    return Item(**args)


def test_value():
    assert make().value == Decimal("0.50")


@pytest.mark.parametrize("kw", [{"sku": ""}, {"sku": "a-1"}, {"price": Decimal("-1")},
                                {"quantity": -1}], ids=["empty-sku", "bad-sku", "price", "qty"])
def test_validation(kw):
    with pytest.raises(ValidationError):
        make(**kw)


def test_to_dict():
    assert make().to_dict()["sku"] == "A1"
