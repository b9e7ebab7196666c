from memoize import CacheInfo, memoize


def counted():
    calls = []

    @memoize
    def square(x, offset=0):
        calls.append((x, offset))
        return x * x + offset

    return square, calls


def test_result_is_cached():
    square, calls = counted()
    assert square(3) == 9
    assert square(3) == 9
    assert calls == [(3, 0)]


def test_cache_info_counts():
    square, _ = counted()
    square(2)
    square(2)
    square(4)
    assert square.cache_info() == CacheInfo(hits=1, misses=2, size=2)


def test_cache_clear():
    square, calls = counted()
    square(2)
    square.cache_clear()
    square(2)
    assert len(calls) == 2
    assert square.cache_info() == CacheInfo(0, 1, 1)


def test_wraps_keeps_name():
    square, _ = counted()
    assert square.__name__ == "square"
