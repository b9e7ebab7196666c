"""Accounts with integer balances (cents) and transfers between them."""


class BankError(Exception):
    pass


class InsufficientFunds(BankError):
    pass


class UnknownAccount(BankError):
    pass


class Bank:
    def __init__(self):
        self._balances = {}
        self.history = []

    def open(self, name, balance=0):
        if name in self._balances:
            raise BankError(f"account {name!r} already exists")
        if balance < 0:
            raise ValueError("opening balance must not be negative")
        self._balances[name] = balance

    def balance(self, name):
        return self._balances[name]

    def deposit(self, name, amount):
        if amount <= 0:
            raise ValueError("amount must be positive")
        self._balances[name] += amount
        self.history.append(("deposit", name, amount))

    def withdraw(self, name, amount):
        if amount <= 0:
            raise ValueError("amount must be positive")
        if self._balances[name] < amount:
            raise InsufficientFunds(f"{name} has {self._balances[name]}, needs {amount}")
        self._balances[name] -= amount
        self.history.append(("withdraw", name, amount))

    def transfer(self, source, target, amount):
        self.withdraw(source, amount)
        self.deposit(target, amount)
