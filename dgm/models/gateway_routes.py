"""What the gateway forwards: an allow-list of (method, path), and a strict reading of targets.

The gateway holds the real API key, so whatever it forwards is done with the
run owner's account. It therefore forwards only the endpoints named in
``gateway.endpoints`` (defaults below) and builds every upstream URL from the
configured ``base_url`` plus the *configured* path of the matched route: no byte
of the request target ever reaches the upstream URL, and the upstream host never
comes from the request.

Before any matching, the raw request target (as it stood on the request line,
before any normalisation) must be a plain origin-form path:

- it starts with ``/`` (absolute-form ``http://h/...``, authority-form
  ``h:443``, ``*`` and ``@h:p/...`` are refused);
- it holds only ``A-Z a-z 0-9 / - _ .``: no ``%`` (so no ``%2f``, ``%2e%2e``),
  no ``?`` query, ``#``, ``@``, ``:``, ``\\`` or ``;``;
- it has no empty segment (``//``, a trailing ``/``) and no ``.``/``..`` segment.

A target that breaks these is malformed (400); a well-formed one not on the
list is forbidden (403). Both are logged and reach nothing upstream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_ENDPOINTS: tuple[str, ...] = (
    "POST /v1/chat/completions",
    "POST /v1/completions",
    "POST /v1/responses",
    "POST /v1/embeddings",
    "GET /v1/models",
)
METHODS = ("GET", "POST")
LOCAL_ROUTES = {("GET", "/v1/dgm/usage"), ("GET", "/dgm/usage")}  # answered by the gateway itself
_SAFE = re.compile(r"/[A-Za-z0-9/_.\-]*")
MAX_TARGET = 256


@dataclass(frozen=True)
class Route:
    """One allowed endpoint; ``upstream`` is the path appended to ``base_url``'s path."""

    method: str
    path: str

    @property
    def upstream(self) -> str:
        return self.path[3:] if self.path.startswith("/v1/") else self.path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class TargetError(ValueError):
    """A refused request target; ``status`` is 400 (malformed) or 403 (not allowed)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def malformed(target: str) -> str | None:
    """Why ``target`` is not a plain origin-form path, or None when it is one."""
    if len(target) > MAX_TARGET:
        return f"request target longer than {MAX_TARGET} characters"
    if not target.startswith("/"):
        return "request target is not an origin-form path (absolute or authority form)"
    if not _SAFE.fullmatch(target):
        bad = sorted({ch for ch in target if not (ch.isascii() and (ch.isalnum() or ch in "/_.-"))})
        return f"request target holds characters the gateway does not accept: {''.join(bad)!r}"
    segments = target[1:].split("/")
    if any(s == "" for s in segments):
        return "request target has an empty segment (a doubled or trailing slash)"
    if any(s in (".", "..") for s in segments):
        return "request target has a dot segment"
    return None


def parse_endpoint(spec: str) -> Route:
    """``"POST /v1/chat/completions"`` -> Route; raises ValueError with a one-line reason."""
    method, _, path = spec.strip().partition(" ")
    method, path = method.upper(), path.strip()
    if method not in METHODS:
        raise ValueError(f"endpoint {spec!r}: method must be one of {', '.join(METHODS)}")
    why = malformed(path)
    if why:
        raise ValueError(f"endpoint {spec!r}: {why}")
    if (method, path) in LOCAL_ROUTES:
        raise ValueError(f"endpoint {spec!r} is answered by the gateway itself")
    return Route(method, path)


class RouteTable:
    """The allow-list, built once from config."""

    def __init__(self, endpoints: tuple[str, ...] | list[str] = DEFAULT_ENDPOINTS):
        self.routes = {(r.method, r.path): r for r in map(parse_endpoint, endpoints)}

    def match(self, method: str, target: str) -> Route | None:
        """The route for a raw target; None for a local route; raises TargetError otherwise."""
        why = malformed(target)
        if why:
            raise TargetError(400, f"dgm gateway: {why}")
        if (method, target) in LOCAL_ROUTES:
            return None
        route = self.routes.get((method, target))
        if route is None:
            raise TargetError(403, f"dgm gateway: {method} {target} is not on the gateway's "
                              "allow-list (gateway.endpoints)")
        return route
