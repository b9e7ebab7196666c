import pytest

from retrying import retry


class Flaky:
    def __init__(self, failures, exc=ConnectionError):
        self.failures = failures
        self.exc = exc
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc(f"failure {self.calls}")
        return "ok"


def test_success_first_time():
    flaky = Flaky(0)
    assert retry(times=3, sleep=lambda s: None)(flaky)() == "ok"
    assert flaky.calls == 1


def test_success_after_failures():
    flaky = Flaky(2)
    assert retry(times=3, exceptions=(ConnectionError,), sleep=lambda s: None)(flaky)() == "ok"
    assert flaky.calls == 3


def test_delay_is_passed_to_sleep():
    slept = []
    retry(times=3, delay=0.25, sleep=slept.append)(Flaky(2))()
    assert slept == [0.25, 0.25]


def test_keeps_function_name():
    @retry()
    def fetch():
        return 1

    assert fetch.__name__ == "fetch"


def test_times_must_be_positive():
    with pytest.raises(ValueError):
        retry(times=0)
