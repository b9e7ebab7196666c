"""The gateway as a closed proxy, tried as a hostile sandbox would: raw sockets and the openai client.

Every refused form must get its status *and reach nothing upstream*: the recording
fake upstream (and, for the request-forgery forms, a second server standing for an
address the sandbox chose) must have received no request at all.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from tests.fakes.fake_openai import FakeOpenAI
from tests.llm.gateway_wire import openai_client, raw_request

HI = [{"role": "user", "content": "hi"}]
CHAT = json.dumps({"model": "gpt-4o-mini", "messages": HI}).encode()


@pytest.fixture
def elsewhere():
    """An address a sandbox might want the gateway to fetch from (it must never be reached)."""
    with FakeOpenAI() as other:
        yield other


@pytest.fixture
def closed(make_gateway, fake_openai, elsewhere):
    """A gateway whose base_url has no path (the case that used to allow `@host:port/...`)."""
    lines: list[str] = []
    gw = make_gateway(base_url=f"http://127.0.0.1:{fake_openai.port}", max_request_mb=1)
    gw.log = lines.append
    gw.lines = lines
    return gw


def _head(gw, method: str, target: str, *headers: str, key: bool = True) -> str:
    auth = [f"Authorization: Bearer {gw.access.key('000001')}"] if key else []
    return "\r\n".join([f"{method} {target} HTTP/1.1", "Host: dgm-gateway", *auth, *headers])


def _chat(gw, target="/v1/chat/completions", body: bytes = CHAT, *headers: str, key=True):
    h = ("Content-Type: application/json", f"Content-Length: {len(body)}") if not headers else headers
    return raw_request(gw.access.socket_path, _head(gw, "POST", target, *h, key=key), body)


REFUSED_TARGETS = [  # (method, target, status)
    ("GET", "/v1/files", 403), ("POST", "/v1/files", 403), ("POST", "/v1/fine_tuning/jobs", 403),
    ("POST", "/v1/images/generations", 403), ("GET", "/v1/organization/users", 403),
    ("GET", "/v1/organization/admin_api_keys", 403), ("POST", "/v1/batches", 403),
    ("GET", "/v1/chat/completions", 403), ("POST", "/v1/models", 403),
    ("GET", "/v1/models/gpt-4o", 403), ("POST", "/V1/chat/completions", 403),
    ("POST", "/chat/completions", 403), ("DELETE", "/v1/models/x", 403),
    ("PUT", "/v1/chat/completions", 403), ("PATCH", "/v1/chat/completions", 403),
    ("OPTIONS", "*", 403), ("CONNECT", "127.0.0.1:{port}", 403),
    ("POST", "/v1/../v1/files", 400), ("POST", "/v1/./chat/completions", 400),
    ("POST", "/v1/chat/completions/../../files", 400), ("GET", "/v1/models/..", 400),
    ("POST", "/v1%2fchat%2fcompletions", 400), ("POST", "/v1/%2e%2e/files", 400),
    ("POST", "/v1/%2E%2E/files", 400), ("POST", "/v1/chat/completions%00", 400),
    ("POST", "//v1/chat/completions", 400), ("POST", "/v1//chat/completions", 400),
    ("POST", "/v1/chat/completions/", 400), ("POST", "/v1/chat/completions?x=1", 400),
    ("POST", "/v1/chat/completions#x", 400), ("POST", "/v1/chat\\completions", 400),
    ("POST", "/v1/chat;x/completions", 400),
    ("POST", "http://127.0.0.1:{port}/v1/chat/completions", 400),
    ("POST", "@127.0.0.1:{port}/v1/chat/completions", 400),
    ("GET", "@127.0.0.1:{port}/v1/models", 400), ("POST", "127.0.0.1:{port}", 400),
    ("GET", "//127.0.0.1:{port}/v1/models", 400), ("POST", "*", 400),
    ("GET", "/" + "a" * 300, 400),
]


@pytest.mark.parametrize("method,target,status", REFUSED_TARGETS)
def test_refused_targets_reach_nothing(closed, fake_openai, elsewhere, method, target, status):
    target = target.format(port=elsewhere.port)
    body = CHAT if method in ("POST", "PUT", "PATCH") else b""
    head = _head(closed, method, target, f"Content-Length: {len(body)}")
    got, answer = raw_request(closed.access.socket_path, head, body)
    assert got == status, answer
    assert fake_openai.requests == [] and elsewhere.requests == []
    assert any(f"refused {status}" in ln for ln in closed.lines)


def test_allowed_routes_still_work_through_openai_client(closed, fake_openai):
    fake_openai.push("hello")
    client = openai_client(closed, "000001")
    assert client.chat.completions.create(model="gpt-4o-mini", messages=HI).choices[0] \
        .message.content == "hello"
    assert [m.id for m in client.models.list()] == ["fake-model"]
    assert [r.path for r in fake_openai.requests] == ["/chat/completions", "/models"]
    assert closed.usage("000001")["calls"] == 2  # the GET is metered too


def test_openai_client_cannot_reach_other_endpoints(closed, fake_openai):
    client = openai_client(closed, "000001")
    for call in (lambda: client.files.list(),
                 lambda: client.fine_tuning.jobs.list(),
                 lambda: client.images.generate(prompt="x", model="dall-e-3"),
                 lambda: client.batches.list(),
                 lambda: client.models.retrieve("gpt-4o")):
        with pytest.raises(openai.PermissionDeniedError):
            call()
    assert fake_openai.requests == []


BAD_BODIES = [  # (headers, body, status)
    (("Content-Length: -1",), CHAT, 400),
    (("Content-Length: abc",), CHAT, 400),
    (("Content-Length: +5",), CHAT, 400),
    (("Content-Length: 0x10",), CHAT, 400),
    (("Content-Length: 99999999999",), CHAT, 413),
    (("Content-Length: 2000000",), CHAT, 413),
    ((f"Content-Length: {len(CHAT)}", f"Content-Length: {len(CHAT) + 1}"), CHAT, 400),
    ((f"Content-Length: {len(CHAT)}", "Transfer-Encoding: chunked"), CHAT, 400),
    (("Transfer-Encoding: gzip",), CHAT, 501),
    (("Transfer-Encoding: chunked, gzip",), CHAT, 501),
    (("Transfer-Encoding: chunked",), b"zz\r\n" + CHAT + b"\r\n0\r\n\r\n", 400),
    (("Transfer-Encoding: chunked",), b"200000\r\n" + b"x" * 1000, 413),
    (("Transfer-Encoding: chunked",), b"10\r\n" + b"x" * 5, 400),
    ((f"Content-Length: {len(CHAT) + 100}",), CHAT, 400),  # ends early
    (("Content-Length: 7",), b"not js!", 400),
    (("Content-Length: 2",), b"[]", 400),
]


@pytest.mark.parametrize("headers,body,status", BAD_BODIES)
def test_refused_bodies_reach_nothing(closed, fake_openai, headers, body, status):
    got, answer = _chat(closed, "/v1/chat/completions", body, *headers)
    assert got == status, answer
    assert fake_openai.requests == []


def test_chunked_body_is_read_when_proper(closed, fake_openai):
    fake_openai.push("chunked ok")
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(CHAT), CHAT)
    got, answer = _chat(closed, "/v1/chat/completions", body, "Transfer-Encoding: chunked")
    assert got == 200 and b"chunked ok" in answer


@pytest.mark.parametrize("key", [None, "sk-whatever", "dgm-AAAA.0000"])
def test_bad_keys_are_refused_before_the_body_is_read(closed, fake_openai, key):
    auth = () if key is None else (f"Authorization: Bearer {key}",)
    head = "\r\n".join(["POST /v1/chat/completions HTTP/1.1", "Host: x", *auth,
                        "Content-Length: 100000000", "Expect: 100-continue"])
    got, answer = raw_request(closed.access.socket_path, head, b"")
    assert got == 401 and b"100 Continue" not in answer
    assert fake_openai.requests == []


UNBOUNDED = [  # requests whose cost the gateway cannot bound beforehand
    ("/v1/responses", {"model": "gpt-4o-mini", "input": "hi", "previous_response_id": "r1"}),
    ("/v1/responses", {"model": "gpt-4o-mini", "input": "hi", "tools": [{"type": "web_search"}]}),
    ("/v1/responses", {"model": "gpt-4o-mini", "input": "hi", "background": True}),
    ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": HI, "n": 5}),
    ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": HI, "max_tokens": -1}),
    ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": HI, "modalities": ["audio"]}),
    ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]}]}),
    ("/v1/completions", {"model": "gpt-4o-mini", "prompt": "hi", "best_of": 4}),
    ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": HI, "stream": True}),
]


@pytest.mark.parametrize("target,request_json", UNBOUNDED)
def test_unbounded_calls_are_refused(closed, fake_openai, target, request_json):
    got, answer = _chat(closed, target, json.dumps(request_json).encode())
    assert got == 400, answer
    assert fake_openai.requests == []


def test_output_cap_is_inserted_and_lowered(make_gateway, fake_openai):
    gw = make_gateway(max_output_tokens=300)
    fake_openai.push("a", "b", "c")
    client = openai_client(gw, "000001")
    client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    client.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=100000)
    client.chat.completions.create(model="gpt-4o-mini", messages=HI, max_completion_tokens=50)
    sent = [r.json for r in fake_openai.completion_requests]
    assert sent[0]["max_tokens"] == 300 and sent[1]["max_tokens"] == 300
    assert sent[2]["max_completion_tokens"] == 50 and "max_tokens" not in sent[2]


def test_concurrency_cap_per_label(make_gateway, fake_openai):
    gw = make_gateway(max_concurrent_per_label=2)
    release = threading.Event()

    def slow(request):
        release.wait(10)
        return "done"

    fake_openai.fallback = slow
    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(_chat, gw) for _ in range(5)]
        time.sleep(1.0)  # let the first two reach the upstream
        other = _chat(gw, "/v1/chat/completions", CHAT, "Content-Length: %d" % len(CHAT))
        release.set()
        statuses = sorted(f.result()[0] for f in futures)
    assert statuses == [200, 200, 429, 429, 429]
    assert other[0] == 429  # the same label: still at its cap while two were in flight
    assert len(fake_openai.completion_requests) == 2
    fake_openai.fallback = "again"
    assert _chat(gw)[0] == 200  # the cap is about calls in flight, not a ban


def test_get_is_refused_once_the_budget_is_spent(make_gateway, fake_openai):
    gw = make_gateway(budget_usd=0.001, max_output_tokens=50)
    fake_openai.push({"choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "x"}}], "usage": {"prompt_tokens": 7000,
                                                         "completion_tokens": 0}})
    client = openai_client(gw, "000001")
    client.chat.completions.create(model="gpt-4o-mini", messages=HI)  # $0.00105: over
    assert gw.budget_exhausted
    with pytest.raises(openai.APIStatusError) as info:
        client.models.list()
    assert info.value.status_code == 402
    assert [r.path for r in fake_openai.requests] == ["/v1/chat/completions"]


def test_sandbox_keys_cannot_pass_for_host_keys(closed, fake_openai):
    sandbox_key = closed.access.key("000001")
    forged = "dgmh-" + sandbox_key[len("dgm-"):]
    head = "\r\n".join(["GET /v1/models HTTP/1.1", "Host: x", f"Authorization: Bearer {forged}"])
    assert raw_request(closed.access.socket_path, head)[0] == 401
    assert fake_openai.requests == []


def test_a_huge_sandbox_call_cannot_end_the_run(make_gateway, fake_openai):
    gw = make_gateway(budget_usd=0.01, max_output_tokens=100)
    big = json.dumps({"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "x" * 200_000}]}).encode()  # worst case $0.03 > budget
    assert _chat(gw, "/v1/chat/completions", big)[0] == 402
    assert not gw.budget_exhausted  # the smallest call still fits: the run goes on
    fake_openai.push("fine")
    assert gw.access.chat("000001:llm:1", "propose", HI).text == "fine"  # a host call
    huge = [{"role": "user", "content": "y" * 200_000}]
    with pytest.raises(Exception, match="402"):
        gw.access.chat("000001:llm:2", "propose", huge)
    assert gw.budget_exhausted  # the engine's own call no longer fits: the run stops
    assert len(fake_openai.completion_requests) == 1


def test_tcp_listener_is_just_as_closed(make_gateway, fake_openai, elsewhere):
    import socket as _socket
    gw = make_gateway(tcp_host="127.0.0.1")
    host, port = gw.access.tcp_url.split("//")[1].split("/")[0].split(":")
    key = gw.access.key("000001")
    for target, status in ((f"http://127.0.0.1:{elsewhere.port}/v1/models", 400),
                           ("/v1/files", 403), ("/v1/%2e%2e/files", 400)):
        s = _socket.create_connection((host, int(port)), timeout=10)
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n".encode())
        answer = s.recv(65536)
        s.close()
        assert int(answer.split(b" ", 2)[1]) == status, (target, answer[:200])
    assert fake_openai.requests == [] and elsewhere.requests == []
