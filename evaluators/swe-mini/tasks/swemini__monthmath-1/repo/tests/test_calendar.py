import datetime as dt

from monthmath import add_months, end_of_month, quarter


def test_add_months_simple():
    assert add_months(dt.date(2023, 3, 15), 2) == dt.date(2023, 5, 15)


def test_add_months_across_year():
    assert add_months(dt.date(2023, 11, 10), 3) == dt.date(2024, 2, 10)


def test_add_negative_months_across_year():
    assert add_months(dt.date(2024, 1, 5), -2) == dt.date(2023, 11, 5)


def test_add_zero_months():
    assert add_months(dt.date(2024, 2, 29), 0) == dt.date(2024, 2, 29)


def test_end_of_month_leap_year():
    assert end_of_month(dt.date(2024, 2, 3)) == dt.date(2024, 2, 29)
    assert end_of_month(dt.date(2023, 2, 3)) == dt.date(2023, 2, 28)


def test_quarter():
    assert [quarter(dt.date(2024, m, 1)) for m in (1, 3, 4, 9, 10, 12)] == [1, 1, 2, 3, 4, 4]
