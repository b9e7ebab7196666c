from .bank import Bank, BankError, InsufficientFunds, UnknownAccount

__all__ = ["Bank", "BankError", "InsufficientFunds", "UnknownAccount"]
