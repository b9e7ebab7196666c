import pytest

from paginate import PageNotFound, Paginator


def test_partial_last_page():
    p = Paginator(range(23), per_page=10)
    assert p.num_pages == 3
    assert p.page(3).items == [20, 21, 22]


def test_empty_sequence_has_one_page():
    p = Paginator([], per_page=10)
    assert p.num_pages == 1
    assert p.page(1).items == []
    assert p.page(1).start_index == 0


def test_has_previous():
    p = Paginator(range(23), per_page=10)
    assert not p.page(1).has_previous
    assert p.page(2).has_previous


def test_page_zero_does_not_exist():
    with pytest.raises(PageNotFound):
        Paginator(range(5), per_page=2).page(0)


def test_per_page_must_be_positive():
    with pytest.raises(ValueError):
        Paginator(range(5), per_page=0)


def test_start_index():
    p = Paginator(range(23), per_page=10)
    assert p.page(2).start_index == 11
