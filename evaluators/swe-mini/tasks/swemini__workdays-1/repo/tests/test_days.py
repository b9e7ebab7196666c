import datetime as dt

from workdays import add_business_days, business_days_between, is_business_day

MON = dt.date(2024, 3, 4)
FRI = dt.date(2024, 3, 8)


def test_is_business_day():
    assert is_business_day(MON)
    assert not is_business_day(dt.date(2024, 3, 9))
    assert not is_business_day(MON, holidays=[MON])


def test_between_one_week():
    assert business_days_between(MON, MON + dt.timedelta(days=7)) == 5


def test_between_with_holiday():
    assert business_days_between(MON, FRI, holidays=[dt.date(2024, 3, 6)]) == 3


def test_add_within_week():
    assert add_business_days(MON, 3) == dt.date(2024, 3, 7)


def test_add_over_weekend():
    assert add_business_days(FRI, 1) == dt.date(2024, 3, 11)
