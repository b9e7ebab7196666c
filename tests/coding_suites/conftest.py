"""Fixtures for the coding-suite tests: the suites, their shared codingkit, sandboxes.

``coding_sandbox`` is the backend most tests grade in: bubblewrap where it
works (real isolation, fast), else the unsafe LocalSandbox, so the grading
logic is tested on any machine. ``DGM_CODING_TEST_SANDBOX=docker|bwrap|unsafe``
forces one. The ``docker``-marked tests use the Docker backend and skip
(fail in CI) when no engine answers.
"""

from __future__ import annotations

import os

import pytest

from dgm.errors import DgmError
from dgm.sandbox.local import LocalSandbox
from dgm.suites import load_suite

SWE = load_suite("swe-mini")        # also loads the shared package as dgm_codingkit
HUMANEVAL = load_suite("humaneval")


@pytest.fixture(scope="session")
def swe():
    return SWE


@pytest.fixture(scope="session")
def humaneval():
    return HUMANEVAL


@pytest.fixture(scope="session")
def coding_sandbox():
    kind = os.environ.get("DGM_CODING_TEST_SANDBOX", "bwrap")
    if kind == "unsafe":
        yield LocalSandbox()
        return
    from dgm.sandbox.select import choose_sandbox

    try:
        sb = choose_sandbox(kind, echo=lambda line: None)
    except DgmError:
        if os.environ.get("DGM_CODING_TEST_SANDBOX"):
            raise
        sb = LocalSandbox()
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def docker_sandbox():
    from dgm.sandbox import docker_available, in_ci

    ok, why = docker_available()
    if not ok:
        if in_ci():
            pytest.fail(f"CI must run this test: {why}")
        pytest.skip(why)
    from dgm.sandbox.select import choose_sandbox

    sb = choose_sandbox("docker", echo=lambda line: None)
    yield sb
    sb.close()
