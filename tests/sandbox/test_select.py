"""Backend selection: one line saying which and why; unsafe only when asked for."""

from __future__ import annotations

import pytest

from dgm.errors import ConfigError, DgmError
from dgm.sandbox import BwrapSandbox, DockerSandbox, LocalSandbox, choose_sandbox, docker_available


def lines_of(kind, **kw):
    lines = []
    sb = choose_sandbox(kind, echo=lines.append, **kw)
    sb.close()
    return sb, lines


@pytest.mark.bwrap
def test_bwrap_when_asked(bwrap_sb):
    sb, lines = lines_of("bwrap")
    assert isinstance(sb, BwrapSandbox) and len(lines) == 1 and lines[0].startswith("sandbox: bwrap")


def test_unsafe_only_when_asked_and_said_loudly(monkeypatch):
    sb, lines = lines_of("unsafe")
    assert isinstance(sb, LocalSandbox) and "NOT isolated" in lines[0]
    monkeypatch.setenv("DGM_SANDBOX", "unsafe")
    with pytest.raises(ConfigError, match="--unsafe"):
        choose_sandbox("auto", echo=lambda s: None)


def test_unknown_kind():
    with pytest.raises(ConfigError, match="unknown sandbox"):
        choose_sandbox("chroot", echo=lambda s: None)


@pytest.mark.bwrap
def test_no_engine_means_bwrap_with_the_reason(monkeypatch, bwrap_sb):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    ok, why = docker_available()
    assert not ok and "no Docker engine answers" in why
    with pytest.raises(DgmError, match="--sandbox docker is not possible"):
        choose_sandbox("docker", echo=lambda s: None)
    sb, lines = lines_of("auto")
    assert isinstance(sb, BwrapSandbox)
    assert lines == [lines[0]] and "docker unavailable: no Docker engine answers" in lines[0]


@pytest.mark.bwrap
def test_environment_can_force_a_backend(monkeypatch, bwrap_sb):
    monkeypatch.setenv("DGM_SANDBOX", "bwrap")
    sb, lines = lines_of("auto")
    assert isinstance(sb, BwrapSandbox)


@pytest.mark.docker
def test_docker_is_preferred_when_the_engine_answers(docker_image):
    sb, lines = lines_of("auto")
    assert isinstance(sb, DockerSandbox) and sb.image == docker_image
    assert len(lines) == 1 and lines[0].startswith("sandbox: docker") and docker_image in lines[0]
