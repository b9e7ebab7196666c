import pytest

from dotpath import PathError, get_path

DATA = {"user": {"name": "ada", "tags": ["x", "y"]},
        "items": [{"name": f"item{i}"} for i in range(12)]}


def test_key():
    assert get_path(DATA, "user.name") == "ada"


def test_single_digit_index():
    assert get_path(DATA, "user.tags[1]") == "y"
    assert get_path(DATA, "items[3].name") == "item3"


def test_missing_key_default():
    assert get_path(DATA, "user.email", default=None) is None


def test_missing_key_raises_without_default():
    with pytest.raises(KeyError):
        get_path(DATA, "user.email")


def test_empty_path():
    with pytest.raises(PathError):
        get_path(DATA, "")
