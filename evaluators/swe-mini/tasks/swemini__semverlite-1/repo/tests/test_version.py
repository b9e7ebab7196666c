import pytest

from semverlite import compare, latest, parse


def test_parse():
    assert parse("v1.2.3") == parse("1.2.3")
    assert parse("1.2.3") != parse("1.2.4")


@pytest.mark.parametrize("bad", ["1.2", "1.2.3.4", "a.b.c", ""])
def test_parse_rejects(bad):
    with pytest.raises(ValueError):
        parse(bad)


def test_equal():
    assert compare("1.2.3", "v1.2.3") == 0


def test_single_digit_components():
    assert compare("1.2.3", "1.2.4") == -1
    assert compare("2.0.0", "1.9.9") == 1


def test_latest():
    assert latest(["0.1.0", "0.3.1", "0.2.9"]) == "0.3.1"
