import pytest

from ledger import CurrencyMismatch, Money


def test_amounts_are_rounded_to_cents():
    assert Money("1.005").amount == Money("1.01").amount
    assert repr(Money(2)) == "Money('2.00', 'EUR')"


def test_add_and_subtract():
    assert Money("1.10") + Money("2.20") == Money("3.30")
    assert Money("5.00") - Money("0.01") == Money("4.99")


def test_currency_mismatch():
    with pytest.raises(CurrencyMismatch):
        Money(1, "EUR") + Money(1, "USD")


def test_even_split():
    assert Money("9.00").split(3) == [Money("3.00")] * 3


def test_split_needs_a_part():
    with pytest.raises(ValueError):
        Money(1).split(0)
