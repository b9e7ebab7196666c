"""Month arithmetic on ``datetime.date`` and ``datetime.datetime`` values."""

import calendar


def end_of_month(d):
    """The last day of ``d``'s month (same type as ``d``, time kept)."""
    last = calendar.monthrange(d.year, d.month)[1]
    return d.replace(day=last)


def add_months(d, months):
    """``d`` shifted by a whole number of months (negative goes back)."""
    total = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(total, 12)
    return d.replace(year=year, month=month0 + 1)


def quarter(d):
    """1..4"""
    return (d.month - 1) // 3 + 1
