import pytest

from statkit import StatsError, mean, median, percentile, stdev, variance


def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5


def test_median_odd():
    assert median([5, 1, 3]) == 3


def test_empty_is_an_error():
    for func in (mean, median, variance, stdev):
        with pytest.raises(StatsError):
            func([])


def test_percentile_nearest_rank():
    data = [15, 20, 35, 40, 50]
    assert [percentile(data, p) for p in (5, 30, 40, 50, 100)] == [15, 20, 20, 35, 50]


def test_variance_and_stdev():
    assert variance([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(4.571428571)
    assert stdev([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(2.138089935)
