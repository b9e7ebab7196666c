"""Exact budgets under concurrency, and the engine's memory under a hostile body.

Figures these tests measure are printed (run with ``-s``) and quoted in docs/llm.md.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import openai
import pytest

from tests.llm.gateway_wire import openai_client, raw_request, stream_chunked

HI = [{"role": "user", "content": "hi"}]
PRICE = {"prompt_per_1k": 0.01, "completion_per_1k": 0.05}  # $ per 1k tokens


def test_fifty_concurrent_calls_never_overspend_one_dollar(make_gateway, fake_openai):
    gw = make_gateway(budget_usd=1.0, max_output_tokens=1000, max_concurrent_per_label=64,
                      prices={"gpt-4o-mini": PRICE})
    rng = random.Random(7)
    lock = threading.Lock()
    answered: list[dict] = []
    start = threading.Barrier(50, timeout=30)

    def upstream(request):  # slow, and spends close to the cap it was given
        time.sleep(0.3)
        usage = {"prompt_tokens": 40, "completion_tokens": rng.randint(600, request["max_tokens"])}
        with lock:
            answered.append(usage)
        return {"choices": [{"index": 0, "finish_reason": "length", "message": {
            "role": "assistant", "content": "x"}}], "usage": usage, "model": request["model"]}

    fake_openai.fallback = upstream

    def call(i: int) -> int:
        client = openai_client(gw, "000001")  # one sandbox, fifty calls in flight
        start.wait()
        try:
            client.chat.completions.create(model="gpt-4o-mini", messages=HI)
            return 200
        except openai.APIStatusError as exc:
            return exc.status_code

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(call, range(50)))
    # recomputed independently from what the upstream reported, in exact arithmetic
    spent = sum(Fraction(u["prompt_tokens"]) * Fraction("0.01") / 1000
                + Fraction(u["completion_tokens"]) * Fraction("0.05") / 1000 for u in answered)
    without = Fraction(50 * 40) * Fraction("0.01") / 1000 + Fraction(50 * 600) * Fraction("0.05") / 1000
    print(f"\n50 concurrent calls at $1: {statuses.count(200)} answered, "
          f"{statuses.count(402)} refused (402), spent ${float(spent):.4f}; "
          f"without reservations at least ${float(without):.2f} would have been spent")
    assert set(statuses) <= {200, 402} and statuses.count(200) == len(answered) > 0
    assert without > 1  # the test can fail: unreserved, these calls overspend
    assert spent <= 1 and gw.meter.spent_pico <= gw.meter.budget_pico
    assert Fraction(gw.meter.spent_pico, 10 ** 12) == spent  # metered exactly what was reported
    assert gw.meter.reserved_pico == 0 and gw.meter.over_reservation == 0
    assert len(fake_openai.completion_requests) == statuses.count(200)


def test_retry_needs_its_own_reservation(make_gateway, fake_openai):
    from tests.fakes.fake_openai import Fault
    gw = make_gateway(budget_usd=0.06, max_output_tokens=1000, prices={"gpt-4o-mini": PRICE})
    fake_openai.push(Fault("truncated"), "never reached")  # may be billed: charged worst case
    client = openai_client(gw, "000001")
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert info.value.status_code == 402 and "retry" in info.value.message
    assert fake_openai.completions == 1 and gw.meter.spent_pico <= gw.meter.budget_pico


def _vm(pid: int, field: str) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(field)


MEMORY_CAP = 64 << 20  # growth allowed while refusing: the 16 MiB body cap plus slack


def test_engine_memory_stays_bounded_under_a_1gib_chunked_body(fake_openai):
    cfg = {"base_url": fake_openai.url, "max_request_mb": 16}
    proc = subprocess.Popen([sys.executable, "-m", "tests.llm.gateway_proc", json.dumps(cfg)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        sock, key, pid = info["socket"], info["key"], info["pid"]
        fake_openai.push("warm")
        body = json.dumps({"model": "gpt-4o-mini", "messages": HI}).encode()
        head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}"
        assert raw_request(sock, head + f"\r\nContent-Length: {len(body)}", body)[0] == 200
        base = _vm(pid, "VmHWM")
        t0 = time.monotonic()
        status, answer, sent = stream_chunked(sock, head, 1 << 30)
        seconds = time.monotonic() - t0
        peak = _vm(pid, "VmHWM")
        unauth = stream_chunked(sock, "POST /v1/chat/completions HTTP/1.1\r\nHost: x", 1 << 30)
        lying = raw_request(sock, head + "\r\nContent-Length: -1", b"0" * (1 << 20))
        peak2 = _vm(pid, "VmHWM")
        print(f"\n1 GiB chunked body: answered {status} after {sent >> 20} MiB accepted in "
              f"{seconds:.2f} s; engine peak RSS {base >> 20} -> {peak >> 20} MiB "
              f"(+{(peak - base) >> 20} MiB, cap {MEMORY_CAP >> 20}); without a key: "
              f"{unauth[0]} after {unauth[2] >> 20} MiB; Content-Length -1: {lying[0]}; "
              f"peak after all {peak2 >> 20} MiB")
        assert status == 413 and b"limit" in answer
        assert sent < 1 << 30  # the gateway stopped reading: the client could not finish
        assert unauth[0] == 401 and lying[0] == 400
        assert peak2 - base < MEMORY_CAP
        assert len(fake_openai.completion_requests) == 1
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
