import datetime as dt

import pytest

from logscan import by_level, parse_line, since

LINES = [
    "2024-03-01T10:00:00Z INFO service started",
    "2024-03-01T10:05:00Z WARNING disk 91% full",
    "2024-03-01T10:06:00Z DEBUG cache warm",
]


def records():
    return [parse_line(line) for line in LINES]


def test_parse_line():
    r = parse_line(LINES[1])
    assert (r.level, r.message) == ("WARNING", "disk 91% full")
    assert (r.time.hour, r.time.minute) == (10, 5)


def test_blank_line():
    assert parse_line("   \n") is None


def test_unknown_level():
    with pytest.raises(ValueError):
        parse_line("2024-03-01T10:00:00Z LOUD hello")


def test_level_warning_and_above():
    assert [r.level for r in by_level(records(), "warning")] == ["WARNING"]


def test_since():
    start = parse_line("2024-03-01T10:05:00Z INFO x").time
    assert [r.level for r in since(records(), start)] == ["WARNING", "DEBUG"]
