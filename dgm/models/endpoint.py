"""Check a model endpoint before a run starts: scheme, host, and one probe request.

A run against a URL that is not one, a closed port, a server that does not
speak HTTP or one that answers garbage would otherwise spend minutes proposing
nothing. ``check_endpoint`` raises a one-line ConfigError instead.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from dgm.errors import ConfigError


def check_endpoint(url: str, api_key: str | None = None, timeout: float = 5.0) -> None:
    """Raise ConfigError unless ``url`` is an http(s) URL whose ``/models`` answers like HTTP.

    Any HTTP answer below 500 counts as a live server (401 without a key, 404 for a
    server without the listing); a 200 must carry JSON, as every OpenAI-compatible
    listing does.
    """
    import httpx

    where = "run.model.base_url (or --model-url)"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{where}: {url!r} is not an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(f"{where}: {url!r}: {exc}") from None
    if not parts.hostname:
        raise ConfigError(f"{where}: {url!r} names no host")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    probe = url.rstrip("/") + "/models"
    try:
        r = httpx.get(probe, headers=headers, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise ConfigError(f"model endpoint {url} does not answer ({type(exc).__name__}: "
                          f"{str(exc)[:200] or 'no reply'}); check --model-url / base_url") from None
    if r.status_code >= 500:
        raise ConfigError(f"model endpoint {url} answered GET /models with {r.status_code}; "
                          "check --model-url / base_url")
    if r.status_code == 200:
        try:
            json.loads(r.content)
        except ValueError:
            raise ConfigError(f"model endpoint {url} answered GET /models with 200 but not JSON "
                              f"({r.content[:60]!r}): it is not an OpenAI-compatible API") from None
