import pytest

from kvparse import ParseError, format_kv, parse_kv


def test_simple_pairs():
    assert parse_kv("host=db.local;port=5432") == {"host": "db.local", "port": "5432"}


def test_whitespace_is_ignored():
    assert parse_kv("  host = db.local ;  user= app ; ") == {"host": "db.local", "user": "app"}


def test_empty_text():
    assert parse_kv("") == {}


def test_missing_equals():
    with pytest.raises(ParseError):
        parse_kv("host=db;port")


def test_empty_key():
    with pytest.raises(ParseError):
        parse_kv("=value")


def test_custom_separator():
    assert parse_kv("a=1,b=2", sep=",") == {"a": "1", "b": "2"}


def test_format_round_trip():
    pairs = {"host": "db.local", "port": "5432"}
    assert parse_kv(format_kv(pairs)) == pairs
