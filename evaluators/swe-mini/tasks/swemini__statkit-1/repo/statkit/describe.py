"""Descriptive statistics of a sample (any iterable of numbers)."""

import math


class StatsError(ValueError):
    pass


def _data(values):
    data = sorted(values)
    if not data:
        raise StatsError("no data")
    return data


def mean(values):
    data = _data(values)
    return sum(data) / len(data)


def median(values):
    data = _data(values)
    return data[len(data) // 2]


def percentile(values, p):
    """Nearest-rank percentile, 0 < p <= 100."""
    if not 0 < p <= 100:
        raise StatsError("p must be in (0, 100]")
    data = _data(values)
    rank = math.ceil(p / 100 * len(data))
    return data[rank - 1]


def variance(values):
    """Sample variance (n - 1 in the denominator)."""
    data = _data(values)
    m = sum(data) / len(data)
    return sum((x - m) ** 2 for x in data) / (len(data) - 1)


def stdev(values):
    return math.sqrt(variance(values))
