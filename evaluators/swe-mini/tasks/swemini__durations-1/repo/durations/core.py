"""Parse and format durations written with d/h/m/s units."""

import re

UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)([dhms])")
_WHOLE = re.compile(r"(?:\d+[dhms])+")


def parse_duration(text):
    """Seconds in a duration like ``"2h"``, ``"1h30m"`` or ``"45s"``."""
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"not a duration: {text!r}")
    return sum(int(n) * UNITS[unit] for n, unit in _PART.findall(text))


def format_duration(seconds):
    """The inverse of parse_duration, largest units first."""
    seconds = int(seconds)
    if seconds < 0:
        raise ValueError("negative duration")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h", f"{minutes}m", f"{secs}s"]
    if days:
        parts.insert(0, f"{days}d")
    return " ".join(parts)
