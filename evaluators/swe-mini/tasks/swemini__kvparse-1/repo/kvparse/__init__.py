from .parser import ParseError, format_kv, parse_kv

__all__ = ["ParseError", "format_kv", "parse_kv"]
