import pytest

from minibank import Bank, BankError, InsufficientFunds


@pytest.fixture
def bank():
    b = Bank()
    b.open("alice", 100)
    b.open("bob")
    return b


def test_deposit_and_withdraw(bank):
    bank.deposit("bob", 50)
    bank.withdraw("bob", 20)
    assert bank.balance("bob") == 30


def test_insufficient_funds(bank):
    with pytest.raises(InsufficientFunds):
        bank.withdraw("bob", 1)
    assert bank.balance("bob") == 0


def test_amounts_must_be_positive(bank):
    with pytest.raises(ValueError):
        bank.deposit("bob", 0)
    with pytest.raises(ValueError):
        bank.withdraw("alice", -5)


def test_duplicate_account(bank):
    with pytest.raises(BankError):
        bank.open("alice")


def test_transfer(bank):
    bank.transfer("alice", "bob", 30)
    assert (bank.balance("alice"), bank.balance("bob")) == (70, 30)
