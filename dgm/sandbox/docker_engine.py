"""Talking to the Docker engine: one client, and the rule tests use to skip or fail.

The rule (issue 3): in CI (``CI=true``) a missing engine is a failure; on a
developer machine without an engine, Docker tests skip with the reason.
Other test directories use :func:`docker_available` and :func:`in_ci` too.
"""

from __future__ import annotations

import os
import threading

_lock = threading.Lock()
_client = None
_client_host: str | None = None  # DOCKER_HOST the cached client was made for


def in_ci() -> bool:
    """True when running under CI (``CI`` set to true/1/yes, as .ci/run does)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def docker_client(timeout: int = 120):
    """A shared docker SDK client; raises ``docker.errors.DockerException`` if none answers."""
    global _client, _client_host
    import docker

    with _lock:
        if _client is not None and _client_host != os.environ.get("DOCKER_HOST"):
            _client = None
        if _client is not None:
            try:
                _client.ping()
                return _client
            except Exception:  # the engine went away: reconnect below
                _client = None
        client = docker.from_env(timeout=timeout, max_pool_size=32)
        client.ping()
        _client, _client_host = client, os.environ.get("DOCKER_HOST")
        return client


def docker_available() -> tuple[bool, str]:
    """Whether a Docker engine answers, and a one-line reason either way."""
    try:
        import docker  # noqa: F401
    except ImportError:
        return False, "the docker Python SDK is not installed"
    try:
        client = docker_client()
        version = client.version().get("Version", "?")
    except Exception as exc:  # DockerException, requests errors, PermissionError
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return False, f"no Docker engine answers ({msg[:200]})"
    return True, f"Docker engine {version} answers"
