"""Fixtures of the local-model tests: the real default model must be installed (`make setup`)."""

import pytest

from dgm.models.local.install import installed
from dgm.models.local.registry import spec
from dgm.sandbox import in_ci


@pytest.fixture
def default_model():
    s = spec(None)
    ok = installed(s) is not None
    try:
        import xllamacpp  # noqa: F401
    except ImportError:
        ok = False
    if not ok:
        why = f"the local model {s.name} or xllamacpp is not installed (make setup)"
        if in_ci():
            pytest.fail(f"CI must run this test: {why}")
        pytest.skip(why)
    return s
