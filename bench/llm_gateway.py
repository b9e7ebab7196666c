"""Figures for the foundation-model path: gateway overhead and edit parsing speed.

    .venv/bin/python bench/llm_gateway.py [--calls 300]

Prints: per-call latency straight to the fake model server vs through the
gateway's Unix socket (key swap, metering, transcript callback), the gateway's
throughput with 8 concurrent callers, how fast model answers are parsed and
applied (valid and malformed), and how long a 10 MB answer takes to reject.
No model is called: the upstream is tests/fakes/fake_openai.py on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from dgm.models.gateway import Gateway, GatewayConfig  # noqa: E402
from dgm.proposers.llm import try_answer  # noqa: E402
from dgm.proposers.workcopy import WorkCopy  # noqa: E402
from tests.fakes.fake_openai import FakeOpenAI  # noqa: E402
from tests.llm.test_fuzz_answers import FILES, make_cases  # noqa: E402

MSG = [{"role": "user", "content": "hello " * 200}]


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def fmt(ms: list[float]) -> str:
    ms = sorted(ms)
    return (f"median {statistics.median(ms):.2f} ms, p90 {ms[int(len(ms) * 0.9)]:.2f} ms "
            f"(n={len(ms)})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    n = ap.parse_args().calls
    with FakeOpenAI(fallback="ok " * 50) as fake:
        direct = httpx.Client(base_url=fake.url)
        body = {"model": "gpt-4o-mini", "messages": MSG}
        d = timed(lambda: direct.post("/chat/completions", json=body).raise_for_status(), n)
        cfg = GatewayConfig(base_url=fake.url)
        with Gateway(cfg, on_usage=lambda *a: None, on_transcript=lambda *a: None,
                     environ={"OPENAI_API_KEY": "sk-bench"}) as gw:
            sock = httpx.Client(transport=httpx.HTTPTransport(uds=gw.access.socket_path),
                                base_url="http://dgm-gateway/v1",
                                headers={"Authorization": f"Bearer {gw.access.key('bench')}"})
            g = timed(lambda: sock.post("/chat/completions", json=body).raise_for_status(), n)
            start = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda _: gw.access.chat("bench8", "agent", MSG), range(n)))
            conc = n / (time.perf_counter() - start)
        print(f"direct to fake server:      {fmt(d)}")
        print(f"through gateway (socket):   {fmt(g)}")
        print(f"gateway overhead (median):  {statistics.median(g) - statistics.median(d):.2f} ms/call")
        print(f"gateway, 8 callers:         {conc:.0f} calls/s")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "agent"
        for rel, text in FILES.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        copy = WorkCopy.create(root, Path(tmp) / "wc")
        cases = [c for c in make_cases(7, 1000) if c[0] != "huge"]
        t = time.perf_counter()
        for _, text in cases:
            try_answer(text, copy)
        per = (time.perf_counter() - t) / len(cases) * 1000
        print(f"malformed answers:          {per:.3f} ms each to reject (n={len(cases)})")
        valid = ("main.py\n<<<<<<< SEARCH\ndef solve(x):\n    return x + 1\n=======\n"
                 "def solve(x):\n    return x + 1\n>>>>>>> REPLACE\n")
        v = timed(lambda: try_answer(valid, copy), 500)
        print(f"valid one-block answer:     {fmt(v)} to parse and apply")
        huge = "y" * (10 * 1024 * 1024)
        h = timed(lambda: try_answer(huge, copy), 5)
        print(f"10 MB answer:               {fmt(h)} to reject")
        w = timed(lambda: WorkCopy.create(root, Path(tmp) / f"wc{random.random()}").diff(), 20)
        print(f"work copy + git diff:       {fmt(w)}")


if __name__ == "__main__":
    main()
