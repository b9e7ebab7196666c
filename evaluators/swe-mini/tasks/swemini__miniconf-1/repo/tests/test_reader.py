import pytest

from miniconf import ParseError, loads

TEXT = """
# global comment
[server]
Host = example.org
port=8080

; another comment
[paths]
root = /srv/www
"""


def test_sections_and_keys():
    assert loads(TEXT) == {"server": {"host": "example.org", "port": "8080"},
                           "paths": {"root": "/srv/www"}}


def test_value_may_contain_equals():
    assert loads("[a]\nexpr = x=1")["a"]["expr"] == "x=1"


def test_key_outside_section():
    with pytest.raises(ParseError) as exc:
        loads("key = 1\n[a]")
    assert exc.value.lineno == 1


def test_missing_equals():
    with pytest.raises(ParseError) as exc:
        loads("[a]\n\njust words")
    assert exc.value.lineno == 3


def test_empty_section_name():
    with pytest.raises(ParseError):
        loads("[ ]")
