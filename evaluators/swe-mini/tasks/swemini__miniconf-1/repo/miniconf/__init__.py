from .reader import ParseError, loads

__all__ = ["ParseError", "loads"]
