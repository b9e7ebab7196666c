"""Retry a function call when it raises."""

import functools
import time


def retry(times=3, exceptions=(Exception,), delay=0.0, sleep=time.sleep):
    """Call the decorated function up to ``times`` times.

    Only the exception types in ``exceptions`` are retried; ``delay`` seconds
    are slept between attempts (``sleep`` can be replaced in tests).
    """
    if times < 1:
        raise ValueError("times must be at least 1")

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for attempt in range(times):
                try:
                    return func(*args, **kwargs)
                except Exception:
                    sleep(delay)
            return None

        return wrapper

    return decorator
