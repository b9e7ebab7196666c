"""Fixtures for the sandbox tests: real backends, and a check that runs leave nothing behind.

Docker rule: in CI (CI=true) a missing engine fails the test; elsewhere it
skips with the reason. Likewise for bubblewrap.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dgm.sandbox import BwrapSandbox, DockerSandbox, docker_available, in_ci
from dgm.sandbox.select import bwrap_available


def _unavailable(why: str) -> None:
    if in_ci():
        pytest.fail(f"CI must run this test: {why}")
    pytest.skip(why)


@pytest.fixture(scope="session")
def docker_image() -> str:
    ok, why = docker_available()
    if not ok:
        _unavailable(why)
    from dgm.sandbox.image import ensure_image

    return ensure_image(echo=lambda line: None)  # scripts/engine-up.sh has built it already


@pytest.fixture(scope="session")
def docker_sb(docker_image):
    sb = DockerSandbox(docker_image)
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def bwrap_sb():
    ok, why = bwrap_available()
    if not ok:
        _unavailable(why)
    sb = BwrapSandbox()
    yield sb
    sb.close()


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker),
                        pytest.param("bwrap", marks=pytest.mark.bwrap)])
def sandbox(request):
    """Each test using it runs once per backend."""
    return request.getfixturevalue(f"{request.param}_sb")


def host_state() -> dict:
    """What a run must not change on the host: our containers, slots, cgroups."""
    from dgm.sandbox.scratch import _PREFIX

    slots = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
             if os.path.basename(line.split()[1]).startswith(f"{_PREFIX}{os.getpid()}-")]
    from dgm.sandbox.cgroups import _v1_paths

    cgroups = [str(p) for d in _v1_paths().values() for p in d.glob(f"dgm-{os.getpid()}-*")]
    state = {"slots": sorted(slots), "cgroups": sorted(cgroups)}
    ok, _ = docker_available()
    if ok:
        from dgm.sandbox.docker import leftover_containers

        state["containers"] = sorted(c.id for c in leftover_containers(mine_only=True))
    return state


@pytest.fixture
def leaves_no_trace(request, monkeypatch):
    """Asserts after the test that no container, scratch slot or cgroup of ours is left.
    Containers carry this test's own label, so other users of the engine (and other
    tests' background removals) neither break the count nor get touched."""
    import uuid

    from dgm.sandbox.docker_calls import TEST_OWNER_ENV

    monkeypatch.setenv(TEST_OWNER_ENV, f"{request.node.name[:40]}-{uuid.uuid4().hex[:8]}")
    before = host_state()
    yield
    assert host_state() == before


@pytest.fixture(scope="session")
def recorder():
    """Collects attack outcomes; written to test-artifacts/hostile-outcomes.json for docs/security.md."""
    import json

    rows: list[dict] = []
    yield rows
    if rows:
        out = Path(__file__).resolve().parents[2] / "test-artifacts" / "hostile-outcomes.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(rows, indent=1))
