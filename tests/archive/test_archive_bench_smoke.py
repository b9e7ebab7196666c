"""bench/archive_scale.py --quick runs end to end and its correctness checks hold (no timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "archive_scale.py"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_archive_bench_quick(tmp_path):
    out = tmp_path / "figures.json"
    r = subprocess.run([sys.executable, str(BENCH), "--quick", "--json", str(out)],
                       capture_output=True, text=True, timeout=280)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    figures = json.loads(out.read_text())
    mat = figures["materialisation"]
    assert {m["depth"] for m in mat} == {1, 10, 100}
    assert all(m["identical"] for m in mat)  # ours == patch chain == expected files
    assert all(a["check_clean"] for a in figures["add_child"])
    assert [x["agents"] for x in figures["lineage_load"]] == [2000, 10000]
    assert "| depth |" in r.stdout or "| scratch | depth |" in r.stdout
