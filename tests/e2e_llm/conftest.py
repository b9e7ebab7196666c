"""Fixtures of the end-to-end model-path tests."""

import pytest

from dgm.sandbox import docker_available, in_ci


@pytest.fixture
def need_docker():
    ok, why = docker_available()
    if not ok:
        if in_ci():
            pytest.fail(f"CI must run this test: {why}")
        pytest.skip(why)
