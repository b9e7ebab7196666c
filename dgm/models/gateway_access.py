"""How callers reach the gateway: per-label keys, sandbox env and mounts, a host client.

The gateway never hands out the real API key. Each caller gets a *label key*
``dgm-<base64(label)>.<hmac>``: the label says whom usage is billed to (an agent
id, ``<parent>:propose:<n>``, ...) and the HMAC, made with a secret that stays
on the host, stops a sandbox from billing another label. ``GatewayAccess`` is a
small picklable value (socket path, secret, model names) so proposers in other
processes can use it.

Sandbox convention (docs/llm.md): the gateway's socket directory is mounted
read-only at ``/run/dgm-gateway``; the agent sees ``DGM_GATEWAY_SOCKET`` (the
socket), ``OPENAI_BASE_URL=http://dgm-gateway/v1`` (the host part is ignored
when a socket is set), ``OPENAI_API_KEY`` (its label key) and
``DGM_AGENT_MODEL``. Over TCP (a Docker ``--internal`` network) there is no
socket variable and the base URL names the gateway's address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from dgm.errors import DgmError
from dgm.proposers.base import Usage
from dgm.sandbox.base import Mount

SANDBOX_SOCKET_DIR = "/run/dgm-gateway"
SOCKET_NAME = "gateway.sock"
SOCKET_BASE_URL = "http://dgm-gateway/v1"
_CLIENTS: dict[str, httpx.Client] = {}
_CLIENTS_LOCK = threading.Lock()


def make_key(secret: str, label: str, host: bool = False) -> str:
    """A label key; ``host`` keys (``dgmh-``) are for the engine's own calls and never
    enter a sandbox (the gateway trusts what they say about the budget, see docs/llm.md)."""
    enc = base64.urlsafe_b64encode(label.encode()).decode().rstrip("=")
    domain = (b"host:" if host else b"") + label.encode()
    mac = hmac.new(secret.encode(), domain, hashlib.sha256).hexdigest()[:32]
    return f"{'dgmh' if host else 'dgm'}-{enc}.{mac}"


def verify_key(secret: str, key: str) -> str | None:
    """The label a key was made for, or None for a forged or malformed key."""
    found = verify_key_kind(secret, key)
    return found[0] if found else None


def verify_key_kind(secret: str, key: str) -> tuple[str, bool] | None:
    """(label, made for the host) for a valid key, else None."""
    prefix, sep, rest = key.partition("-")
    if not sep or prefix not in ("dgm", "dgmh") or "." not in rest or len(key) > 4096:
        return None
    enc, _, mac = rest.rpartition(".")
    try:
        label = base64.urlsafe_b64decode(enc + "=" * (-len(enc) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    host = prefix == "dgmh"
    return (label, host) if hmac.compare_digest(make_key(secret, label, host), key) else None


class GatewayError(DgmError):
    """A model call through the gateway failed; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status

    @property
    def budget_exhausted(self) -> bool:
        return self.status == 402


@dataclass
class ChatAnswer:
    text: str
    finish_reason: str
    raw: dict


@dataclass(frozen=True)
class GatewayAccess:
    """Everything needed to call a running gateway (host side) or to wire a sandbox to it."""

    socket_path: str
    secret: str
    models: dict[str, str] = field(default_factory=dict)  # role -> model name
    tcp_url: str | None = None  # e.g. http://172.18.0.1:8765/v1 for an --internal network
    timeout_seconds: float = 900.0

    def model(self, role: str) -> str:
        return self.models.get(role) or self.models.get("agent") or "gpt-4o-mini"

    def key(self, label: str) -> str:
        return make_key(self.secret, label)

    # sandbox side ----------------------------------------------------------
    def sandbox_mounts(self, via: str = "socket") -> list[Mount]:
        if via == "tcp":
            return []
        return [Mount(Path(self.socket_path).parent, SANDBOX_SOCKET_DIR, writable=False)]

    def sandbox_env(self, label: str, via: str = "socket") -> dict[str, str]:
        """The allow-listed env a sandboxed agent needs (no real key in it)."""
        env = {"OPENAI_API_KEY": self.key(label), "DGM_AGENT_MODEL": self.model("agent")}
        if via == "tcp":
            if not self.tcp_url:
                raise ValueError("the gateway has no TCP listener (set gateway.tcp_host)")
            env["OPENAI_BASE_URL"] = self.tcp_url
        else:
            env["OPENAI_BASE_URL"] = SOCKET_BASE_URL
            env["DGM_GATEWAY_SOCKET"] = f"{SANDBOX_SOCKET_DIR}/{SOCKET_NAME}"
        return env

    def host_env(self, label: str) -> dict[str, str]:
        """The same variables for a process on the host (the socket's real path)."""
        return {"OPENAI_API_KEY": self.key(label), "OPENAI_BASE_URL": SOCKET_BASE_URL,
                "DGM_GATEWAY_SOCKET": self.socket_path, "DGM_AGENT_MODEL": self.model("agent")}

    # host side -------------------------------------------------------------
    def _client(self) -> httpx.Client:
        """One pooled, thread-safe client per socket (creating one costs ~10 ms)."""
        with _CLIENTS_LOCK:
            client = _CLIENTS.get(self.socket_path)
            if client is None or client.is_closed:
                # plain HTTP over the socket: no TLS context (verify=False) to build
                transport = httpx.HTTPTransport(uds=self.socket_path, verify=False)
                client = httpx.Client(transport=transport, base_url=SOCKET_BASE_URL,
                                      timeout=self.timeout_seconds)
                _CLIENTS[self.socket_path] = client
            return client

    def _auth(self, label: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_key(self.secret, label, host=True)}"}

    def chat(self, label: str, role: str, messages: list[dict], **params: Any) -> ChatAnswer:
        """One chat completion billed to ``label``; raises GatewayError with the reason."""
        body = {"model": self.model(role), "messages": messages, **params}
        try:
            r = self._client().post("/chat/completions", json=body, headers=self._auth(label))
        except httpx.HTTPError as exc:
            raise GatewayError(f"cannot reach the gateway: {exc}") from None
        try:
            data = r.json()
        except ValueError:
            raise GatewayError(f"gateway answered {r.status_code} with a non-JSON body: "
                               f"{r.text[:300]!r}", r.status_code) from None
        if r.status_code != 200:
            msg = data.get("error", {}).get("message") if isinstance(data, dict) else None
            raise GatewayError(f"model call failed ({r.status_code}): {msg or str(data)[:300]}",
                               r.status_code)
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise GatewayError(f"malformed completion: {json.dumps(data)[:300]}", 200) from None
        if not isinstance(text, str):
            raise GatewayError(f"completion content is not text: {type(text).__name__}", 200)
        return ChatAnswer(text, str(choice.get("finish_reason") or ""), data)

    def usage(self, label: str) -> Usage:
        """What ``label`` has spent so far, as the gateway metered it."""
        try:
            data = self._client().get("/dgm/usage", headers=self._auth(label)).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GatewayError(f"cannot read usage from the gateway: {exc}") from None
        models = data.get("models") or []
        return Usage(model=",".join(models), prompt_tokens=int(data.get("prompt_tokens", 0)),
                     completion_tokens=int(data.get("completion_tokens", 0)),
                     cost=float(data.get("cost", 0.0)))
