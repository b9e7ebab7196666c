"""The foundation-model gateway: an OpenAI-compatible proxy the run starts on the host.

Sandboxes reach it only through a Unix socket mounted into them (or, optionally,
a TCP listener for a Docker ``--internal`` network); they hold a label key
(see gateway_access.py), never the real one. For every request the gateway

1. checks the label key (401 otherwise) and the run's budget (402 once spent);
2. swaps in the real key from the host's environment and forwards to ``base_url``;
3. retries 429, 5xx, timeouts, dropped connections and unparseable JSON with
   exponential backoff (honouring Retry-After), then gives up with the reason;
4. meters prompt/completion tokens and cost per label and per run, calls
   ``on_usage`` and ``on_transcript``, and answers with the upstream's body.

Its own error answers carry ``x-should-retry: false`` so the openai client in a
sandbox does not multiply the gateway's retries. Streaming is refused (400):
metering needs the whole answer.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import secrets
import shutil
import socket
import socketserver
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import httpx

from .errors import ConfigError
from .gateway_access import SOCKET_NAME, GatewayAccess, verify_key
from .gateway_config import GatewayConfig, ModelRoles
from .pricing import Meter, cost_of, find_price

UsageCallback = Callable[[str, str, int, int, float], None]
TranscriptCallback = Callable[[str, Any, Any], None]


class Gateway:
    """The running proxy. ``with Gateway(cfg) as gw: gw.access ...``; poll ``budget_exhausted``."""

    def __init__(self, config: GatewayConfig, on_usage: UsageCallback | None = None,
                 on_transcript: TranscriptCallback | None = None,
                 log: Callable[[str], None] = lambda line: None,
                 environ: dict[str, str] | None = None):
        self.config = config
        self.on_usage = on_usage
        self.on_transcript = on_transcript
        self.log = log
        self.meter = Meter(config.budget_usd, config.budget_tokens)
        self._refused: dict[str, int] = {}  # label -> calls refused for the budget
        self.prices = config.price_table()
        env = os.environ if environ is None else environ
        if config.api_key_env:
            self._api_key = env.get(config.api_key_env, "")
            if not self._api_key:
                raise ConfigError(f"gateway: ${config.api_key_env} is not set; export the API key "
                                  "on the host (it never enters a sandbox), or set "
                                  "gateway.api_key_env = \"\" for an endpoint without a key")
        else:
            self._api_key = ""
        self._secret = secrets.token_hex(32)
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self._own_dir: str | None = None
        self._transcript_lock = threading.Lock()
        self._upstream = httpx.Client(timeout=httpx.Timeout(config.timeout_seconds, connect=30.0))
        self.access: GatewayAccess | None = None

    # lifecycle -------------------------------------------------------------
    def start(self) -> "Gateway":
        handler = _make_handler(self)
        if self.config.socket_dir:
            sock_dir = Path(self.config.socket_dir)
            sock_dir.mkdir(parents=True, exist_ok=True)
        else:  # short path: AF_UNIX paths are limited to 107 bytes
            self._own_dir = tempfile.mkdtemp(prefix="dgm-gw-")
            sock_dir = Path(self._own_dir)
        os.chmod(sock_dir, 0o755)  # the sandbox's non-root user must reach the socket
        sock_path = sock_dir / SOCKET_NAME
        sock_path.unlink(missing_ok=True)
        unix = _UnixHTTPServer(str(sock_path), handler)
        os.chmod(sock_path, 0o666)
        self._serve(unix)
        tcp_url = None
        if self.config.tcp_host:
            tcp = _TCPHTTPServer((self.config.tcp_host, self.config.tcp_port), handler)
            self._serve(tcp)
            host, port = tcp.server_address[:2]
            tcp_url = f"http://{host}:{port}/v1"
        self.access = GatewayAccess(str(sock_path), self._secret, self.config.models.model_dump(),
                                    tcp_url, self.config.timeout_seconds * (self.config.max_retries + 1)
                                    + self.config.max_backoff_seconds * self.config.max_retries)
        self.log(f"gateway: listening on {sock_path}" + (f" and {tcp_url}" if tcp_url else "")
                 + f", forwarding to {self.config.base_url}")
        return self

    def _serve(self, server: socketserver.BaseServer) -> None:
        t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        t.start()
        self._servers.append(server)
        self._threads.append(t)

    def stop(self) -> None:
        for s in self._servers:
            s.shutdown()
            s.server_close()
        self._servers.clear()
        self._upstream.close()
        if self._own_dir:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def __enter__(self) -> "Gateway":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # state the run loop polls ----------------------------------------------
    @property
    def budget_exhausted(self) -> bool:
        return self.meter.exhausted

    @property
    def budget_reason(self) -> str | None:
        return self.meter.why_exhausted()

    def refused(self, label: str) -> int:
        """How many of ``label``'s calls were refused because the budget was spent."""
        with self._transcript_lock:
            return self._refused.get(label, 0)

    def usage(self, label: str | None = None) -> dict:
        return (self.meter.total if label is None else self.meter.usage(label)).as_dict()

    # the work ----------------------------------------------------------------
    def handle(self, label: str, method: str, path: str, raw: bytes) -> tuple[int, bytes]:
        """Serve one authenticated request; returns (status, JSON body)."""
        request: Any = None
        if method == "POST":
            try:
                request = json.loads(raw or b"null")
            except ValueError:
                return _err(400, "request body is not JSON", "invalid_request_error")
            if not isinstance(request, dict):
                return _err(400, "request body must be a JSON object", "invalid_request_error")
            if request.get("stream"):
                return _err(400, "the dgm gateway does not support stream=true: "
                            "metering needs the whole answer; call without streaming",
                            "invalid_request_error")
            why = self.meter.why_exhausted()
            if why:
                with self._transcript_lock:
                    self._refused[label] = self._refused.get(label, 0) + 1
                return _err(402, f"dgm gateway: {why}; the run is stopping", "budget_exhausted")
            model = str(request.get("model") or "")
            if self.config.budget_usd is not None and find_price(self.prices, model) is None:
                return _err(400, f"dgm gateway: model {model!r} has no price in the run's price "
                            "table, so its cost cannot be charged to the budget; use one of "
                            f"{sorted(self.prices)}", "invalid_request_error")
        status, body = self._forward(method, path, raw if method == "POST" else None)
        if method == "POST":
            self._account(label, request, status, body)
        return status, body

    def _forward(self, method: str, path: str, raw: bytes | None) -> tuple[int, bytes]:
        cfg = self.config
        sub = path[3:] if path.startswith("/v1/") else path
        url = cfg.base_url.rstrip("/") + sub
        headers = {"Content-Type": "application/json", "Accept": "application/json", **cfg.headers}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        failure = (502, "no attempt made")
        for attempt in range(cfg.max_retries + 1):
            wait = min(cfg.max_backoff_seconds, cfg.backoff_seconds * 2 ** attempt)
            try:
                r = self._upstream.request(method, url, content=raw, headers=headers)
            except httpx.TimeoutException:
                failure = (504, f"upstream did not answer within {cfg.timeout_seconds:g} s")
            except httpx.HTTPError as exc:
                failure = (502, f"upstream connection failed: {type(exc).__name__}: {exc}")
            else:
                if r.status_code == 429 or r.status_code >= 500:
                    failure = (r.status_code, f"upstream answered {r.status_code}: {r.text[:300]}")
                    wait = max(wait, min(cfg.max_backoff_seconds, _retry_after(r.headers) or 0))
                elif r.status_code == 200 and not _is_json(r.content):
                    failure = (502, f"upstream answered 200 with unparseable JSON "
                               f"({len(r.content)} bytes: {r.content[:80]!r}...)")
                else:
                    return r.status_code, r.content
            if attempt < cfg.max_retries:
                self.log(f"gateway: {failure[1][:120]}; retry {attempt + 1}/{cfg.max_retries} "
                         f"in {wait:.2f} s")
                time.sleep(wait * random.uniform(1.0, 1.1))
        status, why = failure
        return _err(status, f"dgm gateway: gave up after {cfg.max_retries + 1} attempts: {why}",
                    "upstream_error")

    def _account(self, label: str, request: dict, status: int, body: bytes) -> None:
        try:
            response: Any = json.loads(body)
        except ValueError:
            response = {"unparsed": body[:2000].decode("utf-8", "replace")}
        if status == 200 and isinstance(response, dict):
            model = str(response.get("model") or request.get("model") or "")
            p, c = _usage_of(request, response)
            cost = cost_of(find_price(self.prices, str(request.get("model") or model))
                           or find_price(self.prices, model), p, c)
            self.meter.record(label, model, p, c, cost)
            if self.on_usage:
                self._callback("on_usage", self.on_usage, label, model, p, c, cost)
            if self.meter.exhausted:
                self.log(f"gateway: {self.meter.why_exhausted()}; further calls are refused")
        if self.on_transcript:
            self._callback("on_transcript", self.on_transcript, label, request, response)
        if self.config.transcript_dir:
            self._append_transcript(label, request, response, status)

    def _callback(self, name: str, fn: Callable[..., None], *args: Any) -> None:
        """A failing recorder must not turn a successful model call into an error."""
        try:
            fn(*args)
        except Exception as exc:
            self.log(f"gateway: {name} callback failed: {exc!r}")

    def _append_transcript(self, label: str, request: Any, response: Any, status: int) -> None:
        d = Path(self.config.transcript_dir or ".")
        d.mkdir(parents=True, exist_ok=True)
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in label)[:120] or "_"
        line = json.dumps({"time": time.time(), "label": label, "status": status,
                           "request": request, "response": response})
        with self._transcript_lock, open(d / f"{safe}.jsonl", "a") as fh:
            fh.write(line + "\n")


def _usage_of(request: dict, response: dict) -> tuple[int, int]:
    """Prompt and completion tokens from the answer; estimated (4 chars/token) if absent."""
    u = response.get("usage") if isinstance(response.get("usage"), dict) else {}
    p = u.get("prompt_tokens", u.get("input_tokens"))
    c = u.get("completion_tokens", u.get("output_tokens"))
    if isinstance(p, int) and isinstance(c, int):
        return max(p, 0), max(c, 0)
    return (len(json.dumps(request.get("messages", request))) // 4,
            len(json.dumps(response.get("choices", response))) // 4)


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
        return True
    except ValueError:
        return False


def _retry_after(headers: httpx.Headers) -> float | None:
    if "retry-after-ms" in headers:
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, when.timestamp() - time.time()) if when else None


def _err(status: int, message: str, kind: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": {"message": message, "type": kind, "code": kind}}).encode()


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 256  # many sandboxes connect at once; a full backlog is EAGAIN


class _TCPHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def _make_handler(gw: Gateway) -> type[BaseHTTPRequestHandler]:
    max_bytes = int(gw.config.max_request_mb * 1024 * 1024)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            if self.connection.family != socket.AF_UNIX:  # no 40 ms delayed-ACK stalls on TCP
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)

        def log_message(self, *args: Any) -> None:  # AF_UNIX peers have no address to log
            pass

        def _reply(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if status != 200:
                self.send_header("x-should-retry", "false")
            self.end_headers()
            self.wfile.write(body)

        def _label(self) -> str | None:
            auth = self.headers.get("Authorization", "")
            key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
            label = verify_key(gw._secret, key)
            if label is None:
                self._reply(*_err(401, "dgm gateway: unknown key; use the OPENAI_API_KEY the run "
                                  "gave this sandbox", "invalid_api_key"))
            return label

        def do_GET(self) -> None:
            label = self._label()
            if label is None:
                return
            path = self.path.split("?")[0]
            if path in ("/dgm/usage", "/v1/dgm/usage"):
                self._reply(200, json.dumps(gw.meter.usage(label).as_dict()).encode())
            else:
                self._reply(*gw.handle(label, "GET", path, b""))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > max_bytes:
                self.close_connection = True
                self._reply(*_err(413, f"request of {length} bytes exceeds the gateway's "
                                  f"limit of {max_bytes}", "invalid_request_error"))
                return
            raw = self.rfile.read(length)
            label = self._label()
            if label is None:
                return
            try:
                status, body = gw.handle(label, "POST", self.path, raw)
            except Exception as exc:  # a bug here must not hang the agent
                status, body = _err(500, f"dgm gateway internal error: {exc!r}", "gateway_error")
            self._reply(status, body)

    return Handler


__all__ = ["Gateway", "GatewayConfig", "ModelRoles", "GatewayAccess"]
