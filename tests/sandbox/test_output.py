"""Output capture keeps the tail and marks the cut exactly like base.cap_output."""

from __future__ import annotations

from hypothesis import given, strategies as st

from dgm.sandbox.base import cap_output
from dgm.sandbox.output import TailBuffer


@given(st.lists(st.binary(max_size=300), max_size=40), st.integers(min_value=1, max_value=500))  # base.cap_output keeps all at 0
def test_tail_buffer_matches_cap_output(chunks, limit):
    buf = TailBuffer(limit)
    for c in chunks:
        buf.write(c)
    data = b"".join(chunks)
    assert buf.total == len(data)
    assert buf.text() == cap_output(data, limit)


def test_memory_stays_bounded_for_large_output():
    buf = TailBuffer(1000)
    for i in range(10_000):
        buf.write(bytes([65 + i % 26]) * 997)
        assert len(buf._buf) <= 2000
    assert buf.cut == 10_000 * 997 - 1000
    assert buf.text().startswith(f"[... {buf.cut} bytes cut by dgm ...]\n")
