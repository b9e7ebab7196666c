import pytest

from lrucache import LRUCache


def test_put_and_get():
    c = LRUCache(2)
    c.put("a", 1)
    assert c.get("a") == 1
    assert c.get("zzz", "none") == "none"


def test_evicts_oldest_without_access():
    c = LRUCache(2)
    c.put("a", 1)
    c.put("b", 2)
    c.put("c", 3)
    assert "a" not in c
    assert c.keys() == ["b", "c"]
    assert c.evictions == 1


def test_contains_is_not_a_use():
    c = LRUCache(2)
    c.put("a", 1)
    c.put("b", 2)
    assert "a" in c
    c.put("c", 3)
    assert "a" not in c


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        LRUCache(0)


def test_len():
    c = LRUCache(3)
    for k in "abcde":
        c.put(k, k)
    assert len(c) == 3
