import pytest

from durations import format_duration, parse_duration


@pytest.mark.parametrize("text, seconds", [("45s", 45), ("2h", 7200), ("1h30m", 5400),
                                           ("1d2h", 93600), ("90m", 5400)])
def test_parse(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "abc", "10", "5x", "h1"])
def test_parse_rejects(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_format_all_units():
    assert format_duration(93784) == "1d 2h 3m 4s"


def test_format_negative():
    with pytest.raises(ValueError):
        format_duration(-1)
