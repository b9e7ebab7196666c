"""Parse log lines into records."""

import datetime as dt
from dataclasses import dataclass

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Record:
    time: dt.datetime
    level: str
    message: str


def parse_time(text):
    """ISO 8601 timestamp with a trailing Z (UTC)."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def parse_line(line):
    """A Record from ``"<timestamp> <LEVEL> <message>"``; None for blank lines."""
    line = line.strip()
    if not line:
        return None
    stamp, level, message = (line.split(" ", 2) + [""])[:3]
    level = level.upper()
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r} in {line!r}")
    return Record(parse_time(stamp), level, message)
