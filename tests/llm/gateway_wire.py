"""Raw-socket and openai-client helpers for the gateway tests (real HTTP on the real socket)."""

from __future__ import annotations

import socket

import httpx2
import openai


def raw_request(sock_path: str, head: str, body: bytes = b"", timeout: float = 10.0) -> tuple[int, bytes]:
    """Send ``head`` (request line + headers, no final blank line) and ``body``; (status, answer)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    try:
        try:
            s.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the body was read: the answer is still there to read
        return _read_answer(s)
    finally:
        s.close()


def _read_answer(s: socket.socket) -> tuple[int, bytes]:
    data = b""
    while True:
        try:
            piece = s.recv(65536)
        except ConnectionResetError:
            break
        if not piece:
            break
        data += piece
        if b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            length = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length:")]
            if length and len(rest) >= int(length[0].split(b":")[1]):
                break
    if not data:
        return 0, b""
    status = int(data.split(b" ", 2)[1])
    return status, data.partition(b"\r\n\r\n")[2]


def stream_chunked(sock_path: str, head: str, total: int, piece: int = 1 << 20,
                   timeout: float = 30.0) -> tuple[int, bytes, int]:
    """Stream a chunked body of ``total`` bytes (zeros) until the gateway stops reading.

    Returns (status, answer, bytes the gateway accepted before refusing).
    """
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    sent = 0
    chunk = f"{piece:x}\r\n".encode() + b"0" * piece + b"\r\n"
    try:
        s.sendall(head.encode("latin-1") + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        while sent < total:
            s.sendall(chunk)
            sent += piece
        s.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass
    try:
        status, answer = _read_answer(s)
    finally:
        s.close()
    return status, answer, sent


def openai_client(gw, label: str) -> openai.OpenAI:
    """The real openai client, wired as a sandboxed agent wires it (Unix socket, label key)."""
    env = gw.access.host_env(label)
    http = httpx2.Client(transport=httpx2.HTTPTransport(uds=env["DGM_GATEWAY_SOCKET"]))
    return openai.OpenAI(base_url=env["OPENAI_BASE_URL"], api_key=env["OPENAI_API_KEY"],
                         http_client=http, max_retries=0)
