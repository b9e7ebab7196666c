"""Fixtures for the hostile-outputs suite: both real sandboxes, and the icl/coding helpers.

Every attack test runs once per backend (``backend`` is parametrised over
docker and bwrap, marked so); each class has a control with the same payload
minus the trick, which must score as expected.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for _p in (HERE.parent / "icl", HERE.parent):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from icl_helpers import icl_cache, make_suite  # noqa: E402,F401 (fixtures)
from dgm.sandbox import BwrapSandbox, DockerSandbox, docker_available, in_ci  # noqa: E402
from dgm.sandbox.select import bwrap_available  # noqa: E402


def _unavailable(why: str) -> None:
    if in_ci():
        pytest.fail(f"CI must run this test: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def docker_box():
    ok, why = docker_available()
    if not ok:
        _unavailable(why)
    from dgm.sandbox.image import ensure_image

    sb = DockerSandbox(ensure_image(echo=lambda line: None))
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def bwrap_box():
    ok, why = bwrap_available()
    if not ok:
        _unavailable(why)
    sb = BwrapSandbox()
    yield sb
    sb.close()


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker),
                        pytest.param("bwrap", marks=pytest.mark.bwrap)])
def backend(request):
    """A real sandbox; each test using it runs once per backend."""
    return request.getfixturevalue(f"{request.param}_box")
