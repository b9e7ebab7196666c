"""A scripted stand-in for a hosted chat-completions API: a real HTTP server.

``FakeOpenAI`` listens on 127.0.0.1 (an ephemeral port) and speaks enough of
the OpenAI API for our clients: ``POST /v1/chat/completions`` (plain answers
and ``tool_calls``, with ``usage``) and ``GET /v1/models``. Each test scripts
it with a queue of items, consumed one per completion request:

* ``"text"`` - an assistant message with that content;
* ``tool_call("bash", command="ls")`` / ``message(...)`` - a message dict;
* a full completion dict (has ``"choices"``) - sent verbatim;
* ``Fault(...)`` - 429 with Retry-After, 500, a hang, truncated JSON, garbage
  bytes, a dropped connection or any status;
* a callable ``f(request_json) -> item`` - computed from the request.

When the queue is empty ``fallback`` (an item or callable) answers; without one
the server returns 400 ``script exhausted`` (not retryable, so a test that
over-consumes fails loudly instead of looping). Every request is recorded with
its headers and JSON body in ``requests`` for assertions.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    """A failure the server produces instead of an answer.

    kind: ``status`` (any ``status`` with ``body``), ``429`` (with ``retry_after``),
    ``500``, ``hang`` (sleep ``seconds`` then answer ``then`` or drop), ``truncated``
    (a 200 whose JSON body is cut in half), ``garbage`` (a 200 of random bytes),
    ``drop`` (close the connection without a response).
    """

    kind: str
    status: int = 500
    body: str = ""
    retry_after: float | None = None
    seconds: float = 30.0
    then: Any = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any

    @property
    def messages(self) -> list[dict]:
        return (self.json or {}).get("messages", []) if isinstance(self.json, dict) else []

    @property
    def authorization(self) -> str:
        return self.headers.get("authorization", "")


def message(content: str | None = None, tool_calls: list[dict] | None = None) -> dict:
    """An assistant message dict (``tool_calls`` in the API's wire format)."""
    msg: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        msg["tool_calls"] = tool_calls
    return msg


def tool_call(name: str, content: str | None = None, **arguments: Any) -> dict:
    """An assistant message calling one tool with JSON ``arguments``."""
    return message(content, [call(name, **arguments)])


def call(name: str, **arguments: Any) -> dict:
    """One entry of ``tool_calls``; combine several with ``message(tool_calls=[...])``."""
    return {"id": "call_" + uuid.uuid4().hex[:12], "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)}}


def _tokens(obj: Any) -> int:
    """A deterministic token estimate (4 characters a token), never zero."""
    return max(1, len(json.dumps(obj, default=str)) // 4)


class FakeOpenAI:
    """The scripted server; use as a context manager or start()/stop()."""

    def __init__(self, fallback: Any = None, host: str = "127.0.0.1"):
        self.script: deque[Any] = deque()
        self.fallback = fallback
        self.requests: list[RecordedRequest] = []
        self.completions = 0  # completion requests answered (faults included)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base URL clients use (``.../v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "FakeOpenAI":
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes hanging handlers
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # scripting -------------------------------------------------------------
    def push(self, *items: Any) -> "FakeOpenAI":
        with self._lock:
            self.script.extend(items)
        return self

    @property
    def completion_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next_item(self, request: dict) -> Any:
        with self._lock:
            self.completions += 1
            item = self.script.popleft() if self.script else self.fallback
        while callable(item):
            item = item(request)
        return item


def completion(request: dict, msg: dict, usage: dict | None = None) -> dict:
    """Wrap an assistant message into a chat.completion object."""
    finish = "tool_calls" if msg.get("tool_calls") else "stop"
    prompt = _tokens(request.get("messages", []))
    done = _tokens(msg)
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:16], "object": "chat.completion",
        "created": int(time.time()), "model": request.get("model", "fake-model"),
        "choices": [{"index": 0, "message": msg, "finish_reason": finish, "logprobs": None}],
        "usage": usage or {"prompt_tokens": prompt, "completion_tokens": done,
                           "total_tokens": prompt + done},
    }


def _make_handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(obj).encode(), headers)

        def _record(self, body: Any) -> None:
            with fake._lock:
                fake.requests.append(RecordedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))

        def do_GET(self) -> None:
            self._record(None)
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [
                    {"id": "fake-model", "object": "model", "created": 0, "owned_by": "tests"}]})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                self._record(raw.decode("utf-8", "replace"))
                self._json(400, {"error": {"message": "request body is not JSON"}})
                return
            self._record(body)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            self._answer(body, fake._next_item(body))

        def _answer(self, request: dict, item: Any) -> None:
            if item is None:
                self._json(400, {"error": {"message": "fake server: script exhausted",
                                           "type": "invalid_request_error"}})
            elif isinstance(item, Fault):
                self._fault(request, item)
            elif isinstance(item, str):
                self._json(200, completion(request, message(item)))
            elif isinstance(item, dict) and "choices" in item:
                self._json(200, item)
            elif isinstance(item, dict):
                self._json(200, completion(request, item))
            else:
                raise TypeError(f"cannot answer with {item!r}")

        def _fault(self, request: dict, f: Fault) -> None:
            if f.kind == "429":
                headers = {} if f.retry_after is None else {"Retry-After": f"{f.retry_after:g}"}
                self._json(429, {"error": {"message": f.body or "rate limited",
                                           "type": "rate_limit_error"}}, headers)
            elif f.kind == "500":
                self._json(500, {"error": {"message": f.body or "internal error",
                                           "type": "server_error"}})
            elif f.kind == "status":
                self._send(f.status, f.body.encode())
            elif f.kind == "hang":
                fake._stopping.wait(f.seconds)
                if f.then is not None and not fake._stopping.is_set():
                    self._answer(request, f.then)
                else:
                    self.close_connection = True
            elif f.kind == "truncated":
                full = json.dumps(completion(request, message(f.body or "cut short"))).encode()
                self._send(200, full[: len(full) // 2])
            elif f.kind == "garbage":
                self._send(200, bytes(range(256)) * 4)
            elif f.kind == "drop":
                self.close_connection = True
                self.connection.close()
            else:
                raise ValueError(f"unknown fault kind {f.kind!r}")

    return Handler
