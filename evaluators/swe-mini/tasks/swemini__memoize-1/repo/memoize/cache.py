"""``@memoize``: remember a function's results by its arguments."""

import functools
from collections import namedtuple

CacheInfo = namedtuple("CacheInfo", "hits misses size")


def memoize(func):
    cache = {}
    stats = {"hits": 0, "misses": 0}

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        key = args
        if key in cache:
            stats["hits"] += 1
            return cache[key]
        stats["misses"] += 1
        result = func(*args, **kwargs)
        cache[key] = result
        return result

    def cache_info():
        return CacheInfo(stats["hits"], stats["misses"], len(cache))

    def cache_clear():
        cache.clear()
        stats["hits"] = stats["misses"] = 0

    wrapper.cache_info = cache_info
    wrapper.cache_clear = cache_clear
    return wrapper
