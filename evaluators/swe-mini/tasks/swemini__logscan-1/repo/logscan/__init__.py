from .filters import by_level, since
from .records import Record, parse_line

__all__ = ["Record", "by_level", "parse_line", "since"]
