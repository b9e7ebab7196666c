"""The gateway's HTTP side: the listeners and the request handler (the order of checks).

Order: the key (headers only), the target and the allow-list, the caller's
concurrency, then the body, read with a hard cap (gateway_body.py). Nothing before
the body check reads the body, and a refusal before it closes the connection, so
an unread body is never parsed as a next request. The work itself is
``Gateway.handle`` (gateway.py).
"""

from __future__ import annotations

import json
import socket
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from dgm.models.gateway_access import verify_key_kind
from dgm.models.gateway_body import BodyError, read_body
from dgm.models.gateway_routes import Route, TargetError

if TYPE_CHECKING:
    from dgm.models.gateway import Gateway


def error_body(status: int, message: str, kind: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": {"message": message, "type": kind, "code": kind}}).encode()


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 256  # many sandboxes connect at once; a full backlog is EAGAIN


class TCPHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


_REFUSED_METHODS = ("PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE")


def make_handler(gw: "Gateway") -> type[BaseHTTPRequestHandler]:
    max_bytes = int(gw.config.max_request_mb * 1024 * 1024)

    class Handler(BaseHTTPRequestHandler):
        """Order of checks: key (headers only), target and allow-list, concurrency, then the
        body, read with a hard cap. Nothing before the body check reads the body, and a
        refusal before it closes the connection (the unread body is never parsed)."""

        protocol_version = "HTTP/1.1"
        timeout = gw.config.read_timeout_seconds  # a stalled caller cannot hold a thread

        def setup(self) -> None:
            super().setup()
            if self.connection.family != socket.AF_UNIX:  # no 40 ms delayed-ACK stalls on TCP
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)

        def log_message(self, *args: Any) -> None:  # AF_UNIX peers have no address to log
            pass

        def handle_expect_100(self) -> bool:
            return True  # "100 Continue" is sent only once the key and the target passed

        def _reply(self, status: int, body: bytes, close: bool = False,
                   retry: bool = False) -> None:
            if close:
                self.close_connection = True
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if status != 200:
                self.send_header("x-should-retry", "true" if retry else "false")
            if retry:
                self.send_header("Retry-After", "1")
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def _label(self) -> tuple[str, bool] | None:
            auth = self.headers.get("Authorization", "")
            key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            return verify_key_kind(gw._secret, key)

        def _serve(self) -> None:
            method = self.command
            found = self._label()
            if found is None:
                self._reply(*gw.refuse(None, 401, "dgm gateway: unknown key; use the "
                                       "OPENAI_API_KEY the run gave this sandbox",
                                       "invalid_api_key"), close=True)
                return
            label, host = found
            parts = self.requestline.split()  # the raw target, before any normalisation
            target = parts[1] if len(parts) >= 2 else ""
            try:
                if method not in ("GET", "POST"):
                    raise TargetError(403, f"dgm gateway: method {method} is not on the "
                                      "gateway's allow-list")
                route = gw.routes.match(method, target)
            except TargetError as exc:
                self._reply(*gw.refuse(label, exc.status, str(exc), "forbidden"
                                       if exc.status == 403 else "invalid_request_error"),
                            close=True)
                return
            if route is None:  # the gateway's own usage endpoint
                self._reply(200, json.dumps(gw.meter.usage(label).as_dict()).encode())
                return
            if not gw.enter(label):
                self._reply(*gw.refuse(label, 429, "dgm gateway: more than "
                                       f"{gw.config.max_concurrent_per_label} requests of this "
                                       "caller in flight", "rate_limit_error"),
                            close=True, retry=True)
                return
            try:
                self._serve_route(label, route, host)
            finally:
                gw.leave(label)

        def _serve_route(self, label: str, route: Route, host: bool) -> None:
            if route.method == "GET":
                if self.headers.get("Content-Length", "0").strip() != "0" or \
                        self.headers.get("Transfer-Encoding"):
                    self._reply(*gw.refuse(label, 400, "dgm gateway: a GET carries no body",
                                           "invalid_request_error"), close=True)
                    return
                raw = b""
            else:
                if self.headers.get("Expect", "").lower() == "100-continue":
                    self.send_response_only(100)
                    self.end_headers()
                try:
                    raw = read_body(self.rfile, self.headers, max_bytes)
                except BodyError as exc:
                    self._reply(*gw.refuse(label, exc.status, f"dgm gateway: {exc}",
                                           "invalid_request_error"), close=True)
                    return
                except OSError:  # the caller went away or stalled past read_timeout_seconds
                    self.close_connection = True
                    return
            try:
                status, body = gw.handle(label, route, raw, host)
            except Exception as exc:  # a bug here must not hang the agent
                status, body = error_body(500, f"dgm gateway internal error: {exc!r}", "gateway_error")
            self._reply(status, body)

        do_GET = do_POST = _serve
        for _m in _REFUSED_METHODS:
            locals()[f"do_{_m}"] = _serve
        del _m

    return Handler


