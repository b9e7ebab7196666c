"""The viewer's Starlette application: shared state, security headers, errors.

The archive is opened read-only once; every request reads SQLite in WAL mode,
so the viewer follows a running loop live and never blocks its writer. Every
response carries a strict Content-Security-Policy (scripts only from
/static), so agent-provided text that slipped past escaping still cannot run.
"""

from __future__ import annotations

import html
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dgm.archive.store import Archive
from dgm.errors import DgmError, UnknownAgent
from dgm.web import api, data, pages

HERE = Path(__file__).parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
           (b"cross-origin-opener-policy", b"same-origin")]


class SecurityHeaders:
    """Adds CSP and friends to every response that does not set its own."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k, v) for k, v in HEADERS if k not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _fmt_score(s: float | None) -> str:
    return "–" if s is None else f"{s:.3f}"


def _fmt_time(ts: float | None) -> str:
    return "–" if not ts else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _fmt_cost(c: float | None) -> str:
    return "$0" if not c else f"${c:.4f}"


class Viewer:
    """What every request shares: the read-only archive, templates, a small cache."""

    def __init__(self, archive: Archive, poll_seconds: float):
        self.archive = archive
        self.poll_seconds = poll_seconds
        self._cache: dict[str, tuple[str, dict]] = {}
        self._lock = threading.Lock()
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.templates.filters.update(score=_fmt_score, time=_fmt_time, cost=_fmt_cost)

    def cached(self, name: str, build: Callable[[Archive], dict]) -> dict:
        """``build(archive)``, recomputed only when the archive's version moved."""
        v = data.version(self.archive)
        with self._lock:
            hit = self._cache.get(name)
        if hit is not None and hit[0] == v:
            return hit[1]
        value = build(self.archive) | {"version": v}
        with self._lock:
            self._cache[name] = (v, value)
        return value

    def render(self, template: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        ctx.setdefault("live_url", "/api/version")
        page = self.templates.get_template(template).render(
            archive=str(self.archive.path), poll=self.poll_seconds, **ctx)
        return HTMLResponse(page, status_code=status_code)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    viewer: Viewer = request.app.state.viewer
    try:
        return viewer.render("error.html", status_code=status, status=status, message=message)
    except Exception:  # the error page itself must never fail
        return HTMLResponse(f"<h1>{status}</h1><p>{html.escape(message)}</p>", status_code=status)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(request, 404, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    msg = exc.detail if exc.status_code != 404 else f"no page at {request.url.path}"
    return _error(request, exc.status_code, msg)


async def _bad_input(request: Request, exc: Exception) -> Response:
    return _error(request, 400, str(exc))


async def _db_error(request: Request, exc: Exception) -> Response:
    return _error(request, 503, f"the archive database is unreadable right now: {exc}")


async def _server_error(request: Request, exc: Exception) -> Response:
    return _error(request, 500, f"internal error: {type(exc).__name__}: {exc}")


def create_app(archive: Archive | Path | str, *, poll_seconds: float = 3.0) -> Starlette:
    """The viewer for ``archive`` (a path is opened read-only; an Archive is used as is)."""
    if not isinstance(archive, Archive):
        archive = Archive.open(Path(archive), readonly=True)
    routes = [
        *pages.routes(),
        Mount("/api", routes=api.routes()),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={UnknownAgent: _not_found, data.NotFound: _not_found,
                            HTTPException: _http_error, DgmError: _bad_input,
                            sqlite3.DatabaseError: _db_error,
                            Exception: _server_error})
    app.state.viewer = Viewer(archive, poll_seconds)
    app.add_middleware(SecurityHeaders)
    return app
