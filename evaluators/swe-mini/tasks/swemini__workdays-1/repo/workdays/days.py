"""Business days: Monday to Friday, except the given holidays."""

import datetime as dt


def is_business_day(day, holidays=()):
    return day.weekday() < 5 and day not in set(holidays)


def business_days_between(start, end, holidays=()):
    """Business days in [start, end): ``start`` counts, ``end`` does not."""
    holidays = set(holidays)
    count = 0
    day = start
    while day < end:
        if is_business_day(day, holidays):
            count += 1
        day += dt.timedelta(days=1)
    return count


def add_business_days(start, n, holidays=()):
    """The date ``n`` business days after ``start``."""
    day = start
    added = 0
    while added < n:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            added += 1
    return day
