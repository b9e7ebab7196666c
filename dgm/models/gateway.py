"""The foundation-model gateway: a closed, exactly metered OpenAI-compatible proxy on the host.

Sandboxes reach it only through a Unix socket mounted into them (or, optionally,
a TCP listener for a Docker ``--internal`` network); they hold a label key
(see gateway_access.py), never the real one. For every request the gateway

1. checks the label key from the headers (401), the request target against the
   allow-list (400 malformed / 403 not listed, gateway_routes.py) and the
   caller's concurrency (429), and only then reads the body under a hard cap
   (gateway_http.py, gateway_body.py);
2. reserves the call's worst-case cost against the run's budget (402 when it
   does not fit; gateway_budget.py, pricing.Meter);
3. swaps in the real key and forwards to ``base_url`` + the route's configured
   path (never bytes of the request); retries 429, 5xx, timeouts, dropped
   connections and unparseable JSON with exponential backoff (honouring
   Retry-After), each attempt with its own reservation;
4. settles the reservation to the reported usage per label and per run, calls
   ``on_usage`` and ``on_transcript``, and answers with the upstream's body.

Its own error answers carry ``x-should-retry: false`` so the openai client in a
sandbox does not multiply the gateway's retries. Streaming is refused (400):
metering needs the whole answer.
"""

from __future__ import annotations

import email.utils
import json
import os
import queue
import random
import secrets
import shutil
import socketserver
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, cast

import httpx

from dgm.errors import ConfigError
from dgm.models.gateway_access import SOCKET_NAME, GatewayAccess
from dgm.models.gateway_budget import Estimate, Limits, Unbounded, prepare
from dgm.models.gateway_config import GatewayConfig, ModelRoles
from dgm.models.gateway_http import TCPHTTPServer, UnixHTTPServer, error_body, make_handler
from dgm.models.gateway_routes import Route, RouteTable
from dgm.models.pricing import PICO, Meter, Price, cost_pico, find_price

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
        self._inflight: dict[str, int] = {}  # label -> requests being served
        self.routes = RouteTable(config.endpoints)
        self._limits = Limits(config.max_output_tokens, config.max_choices,
                              config.media_part_tokens, config.chat_max_tokens_field)
        self.prices = config.price_table()
        self._floor = self._smallest_call()
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
        # Usage and transcript records for the run loop to write to its archive (set by the engine).
        self.dgm_queue: queue.Queue | None = None

    # lifecycle -------------------------------------------------------------
    def start(self) -> "Gateway":
        handler = make_handler(self)
        if self.config.socket_dir:
            sock_dir = Path(self.config.socket_dir)
            sock_dir.mkdir(parents=True, exist_ok=True)
        else:  # short path: AF_UNIX paths are limited to 107 bytes
            self._own_dir = tempfile.mkdtemp(prefix="dgm-gw-")
            sock_dir = Path(self._own_dir)
        os.chmod(sock_dir, 0o755)  # the sandbox's non-root user must reach the socket
        sock_path = sock_dir / SOCKET_NAME
        sock_path.unlink(missing_ok=True)
        unix = UnixHTTPServer(str(sock_path), handler)
        os.chmod(sock_path, 0o666)
        self._serve(unix)
        tcp_url = None
        if self.config.tcp_host:
            tcp = TCPHTTPServer((self.config.tcp_host, self.config.tcp_port), handler)
            self._serve(tcp)
            host, port = cast("tuple[str, int]", tcp.server_address[:2])  # an AF_INET(6) address
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

    def _smallest_call(self) -> tuple[int, int]:
        """The worst case of the cheapest call a role could make (empty prompt, capped output)."""
        route = Route("POST", "/v1/chat/completions")
        cases = [prepare(route, {"model": m, "messages": [{"role": "user", "content": ""}]},
                         find_price(self.prices, m), self._limits)
                 for m in self.config.models.model_dump().values()]
        return min(c.pico for c in cases), min(c.tokens for c in cases)

    # the work ----------------------------------------------------------------
    def enter(self, label: str) -> bool:
        """Count one request of ``label`` in flight; False when its concurrency cap is reached."""
        with self._transcript_lock:
            n = self._inflight.get(label, 0)
            if n >= self.config.max_concurrent_per_label:
                return False
            self._inflight[label] = n + 1
            return True

    def leave(self, label: str) -> None:
        with self._transcript_lock:
            n = self._inflight.pop(label, 1) - 1
            if n > 0:
                self._inflight[label] = n

    def refuse(self, label: str | None, status: int, message: str, kind: str) -> tuple[int, bytes]:
        """Log a refusal (no request content in the line) and build its answer."""
        self.log(f"gateway: refused {status} for {label or 'an unauthenticated caller'}: "
                 f"{message[:200]}")
        return error_body(status, message, kind)

    def handle(self, label: str, route: Route, raw: bytes, host: bool = False) -> tuple[int, bytes]:
        """Serve one authenticated request on an allowed route; returns (status, JSON body).

        ``host``: the caller holds a host key (the engine's own proposer calls)."""
        if route.method == "GET":
            return self._handle_get(label, route)
        try:
            request = json.loads(raw or b"null")
        except ValueError:
            return self.refuse(label, 400, "request body is not JSON", "invalid_request_error")
        if not isinstance(request, dict):
            return self.refuse(label, 400, "request body must be a JSON object",
                               "invalid_request_error")
        if request.get("stream"):
            return self.refuse(label, 400, "the dgm gateway does not support stream=true: "
                               "metering needs the whole answer; call without streaming",
                               "invalid_request_error")
        why = self.meter.why_exhausted()
        if why:
            return self._budget_refusal(label, f"dgm gateway: {why}; the run is stopping")
        model = str(request.get("model") or "")
        price = find_price(self.prices, model)
        if self.config.budget_usd is not None and price is None:
            return self.refuse(label, 400, f"dgm gateway: model {model!r} has no price in the "
                               "run's price table, so its cost cannot be charged to the budget; "
                               f"use one of {sorted(self.prices)}", "invalid_request_error")
        try:
            estimate = prepare(route, request, price, self._limits)
        except Unbounded as exc:
            return self.refuse(label, 400, f"dgm gateway: {exc}", "invalid_request_error")
        return self._forward_metered(label, route, request, model, price, estimate, host)

    def _budget_refusal(self, label: str, message: str) -> tuple[int, bytes]:
        with self._transcript_lock:
            self._refused[label] = self._refused.get(label, 0) + 1
        return self.refuse(label, 402, message, "budget_exhausted")

    def _handle_get(self, label: str, route: Route) -> tuple[int, bytes]:
        """A GET costs no tokens but is still a call: counted, and refused once the budget is spent."""
        why = self.meter.why_exhausted()
        if why:
            return self._budget_refusal(label, f"dgm gateway: {why}; the run is stopping")
        cfg = self.config
        for attempt in range(cfg.max_retries + 1):
            a = self._attempt("GET", route, None)
            if not a.retry:
                break
            if attempt < cfg.max_retries:
                time.sleep(min(cfg.max_backoff_seconds, max(cfg.backoff_seconds * 2 ** attempt,
                                                            a.retry_after)))
        if a.status == 200:
            self.meter.record(label, "", 0, 0, 0.0, 0)
        if a.retry:
            return error_body(a.status, f"dgm gateway: gave up after {cfg.max_retries + 1} "
                              f"attempts: {a.why}", "upstream_error")
        return a.status, a.body

    def _forward_metered(self, label: str, route: Route, request: dict, model: str,
                         price: Price | None, est: Estimate, host: bool = False
                         ) -> tuple[int, bytes]:
        """Forward with retries; every attempt holds a worst-case reservation first.

        An attempt that was refused upstream (429, 5xx, no connection) releases its
        reservation; one whose outcome is unknown (timeout after sending, dropped
        answer, unparseable 200) may have been billed and is charged its worst case;
        a 200 is settled to the usage it reports.

        When a call no longer fits what is left *after spending* (in-flight calls only
        ever add to it), the run's budget is over for it: for the engine's own calls
        (``host``) that ends the run's budget; a sandbox's call ends it once what is left
        cannot pay for it *or* for a call as large as the largest already admitted, so a
        hostile agent cannot stop the run with one unusually huge request.
        """
        cfg = self.config
        raw = json.dumps(request).encode()
        failure = _Attempt(502, b"", "no", True, "no attempt made")
        for attempt in range(cfg.max_retries + 1):
            floor = (est.pico, est.tokens) if host else self._floor
            rid, why = self.meter.reserve(est.pico, est.tokens, floor, like_admitted=not host)
            if rid is None:
                if attempt == 0:
                    return self._budget_refusal(label, f"dgm gateway: {why}")
                return self.refuse(label, 402, f"dgm gateway: {failure.why}; no budget left "
                                   f"for a retry: {why}", "budget_exhausted")
            a = self._attempt("POST", route, raw)
            if a.status == 200 and a.billed == "yes":
                self._settle(label, rid, request, model, price, est, a.body)
                return a.status, a.body
            if a.billed == "maybe":
                self._charge_worst(label, rid, model, est)
            else:
                self.meter.release(rid)
            if not a.retry:  # a final answer (a 4xx the caller must see)
                self._transcribe(label, request, a.status, a.body)
                return a.status, a.body
            failure = a
            wait = min(cfg.max_backoff_seconds, cfg.backoff_seconds * 2 ** attempt)
            wait = max(wait, min(cfg.max_backoff_seconds, a.retry_after))
            if attempt < cfg.max_retries:
                self.log(f"gateway: {a.why[:120]}; retry {attempt + 1}/{cfg.max_retries} "
                         f"in {wait:.2f} s")
                time.sleep(wait * random.uniform(1.0, 1.1))
        return error_body(failure.status, f"dgm gateway: gave up after {cfg.max_retries + 1} "
                    f"attempts: {failure.why}", "upstream_error")

    def _attempt(self, method: str, route: Route, raw: bytes | None) -> "_Attempt":
        """One upstream attempt, classified (see _Attempt)."""
        cfg = self.config
        url = cfg.base_url.rstrip("/") + route.upstream  # never from the request
        headers = {"Content-Type": "application/json", "Accept": "application/json", **cfg.headers}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            r = self._upstream.request(method, url, content=raw, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing was sent
            return _Attempt(502, b"", "no", True, f"upstream connection failed: "
                            f"{type(exc).__name__}: {exc}")
        except httpx.TimeoutException:
            return _Attempt(504, b"", "maybe", True,
                            f"upstream did not answer within {cfg.timeout_seconds:g} s")
        except httpx.HTTPError as exc:
            return _Attempt(502, b"", "maybe", True, f"upstream connection failed: "
                            f"{type(exc).__name__}: {exc}")
        if r.status_code == 429 or r.status_code >= 500:
            return _Attempt(r.status_code, r.content, "no", True,
                            f"upstream answered {r.status_code}: {r.text[:300]}",
                            _retry_after(r.headers) or 0.0)
        if r.status_code == 200 and not _is_json(r.content):
            return _Attempt(502, b"", "maybe", True, f"upstream answered 200 with unparseable "
                            f"JSON ({len(r.content)} bytes: {r.content[:80]!r}...)")
        return _Attempt(r.status_code, r.content, "yes" if r.status_code == 200 else "no", False)

    def _charge_worst(self, label: str, rid: int, model: str, est: Estimate) -> None:
        self.meter.settle(rid, label, model, est.prompt_tokens, est.completion_tokens, est.pico)
        self.log(f"gateway: an attempt for {label} may have been billed; charged its worst case "
                 f"(${est.pico / PICO:.6f})")
        if self.on_usage:
            self._callback("on_usage", self.on_usage, label, model, est.prompt_tokens,
                           est.completion_tokens, est.pico / PICO)

    def _settle(self, label: str, rid: int, request: dict, model: str, price: Price | None,
                est: Estimate, body: bytes) -> None:
        response: Any = json.loads(body)
        usage = _usage_of(response) if isinstance(response, dict) else None
        name = str(response.get("model") or model) if isinstance(response, dict) else model
        if usage is None:  # no usage reported: the worst case is all we know
            p, c, pico = est.prompt_tokens, est.completion_tokens, est.pico
            self.log(f"gateway: the upstream reported no usage for {label}; charged the worst case")
        else:
            p, c = usage
            pico = cost_pico(price or find_price(self.prices, name), p, c)
        if not self.meter.settle(rid, label, name, p, c, pico):
            self.log(f"gateway: {label}'s call cost more than its reservation ({p}+{c} tokens, "
                     f"${pico / PICO:.6f} > ${est.pico / PICO:.6f}); the estimate is wrong for "
                     "this upstream")
        if self.on_usage:
            self._callback("on_usage", self.on_usage, label, name, p, c, pico / PICO)
        if self.meter.exhausted:
            self.log(f"gateway: {self.meter.why_exhausted()}; further calls are refused")
        self._transcribe(label, request, 200, body)

    def _transcribe(self, label: str, request: dict, status: int, body: bytes) -> None:
        try:
            response: Any = json.loads(body)
        except ValueError:
            response = {"unparsed": body[:2000].decode("utf-8", "replace")}
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


@dataclass(frozen=True)
class _Attempt:
    """One upstream attempt. ``billed``: yes (a 200), no (refused or never sent), maybe
    (sent, outcome unknown: the provider may have charged it). ``retry``: worth retrying."""

    status: int
    body: bytes
    billed: str
    retry: bool
    why: str = ""
    retry_after: float = 0.0


def _usage_of(response: dict) -> tuple[int, int] | None:
    """Prompt and completion tokens the upstream reports (chat, responses or embeddings)."""
    usage = response.get("usage")
    u: dict = usage if isinstance(usage, dict) else {}
    p = u.get("prompt_tokens", u.get("input_tokens"))
    c = u.get("completion_tokens", u.get("output_tokens", 0 if p is not None else None))
    if isinstance(p, int) and isinstance(c, int) and not isinstance(p, bool) and p >= 0 and c >= 0:
        return p, c
    return None


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


__all__ = ["Gateway", "GatewayConfig", "ModelRoles", "GatewayAccess"]
