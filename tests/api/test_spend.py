"""One cost ledger: the spend that `dgm status`, the viewer and the API show equals what the
gateway metered, each call counted once (it used to add proposals.cost to the usage table,
showing two calls of $0.000308 as $0.0006)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import dgm
from dgm.archive.store import Archive
from dgm.web import data as web_data
from tests.e2e_llm.scripted import ProposerModel, search_replace
from tests.fakes.fake_openai import FakeOpenAI

TOY = Path(__file__).resolve().parents[1] / "loop" / "toy"
DGM = str(Path(sys.executable).parent / "dgm")


def test_shown_spend_equals_the_gateways_metered_spend(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-spend-test")
    model = ProposerModel([
        (search_replace("predict.py", "slope = 1.0", "slope = 3.0", "fit the slope"), None),
        (search_replace("predict.py", "slope = 2.5", "slope = 2.9", "no match"),  # then a retry
         search_replace("predict.py", "offset = 0.5", "offset = 2.0")),
    ])
    arch = tmp_path / "a"
    with FakeOpenAI(fallback=model) as fake:
        cfg = dgm.RunConfig(proposer="llm", suites=[str(TOY / "suite")], seed_agent=TOY / "agent",
                            children=2, workers=1, sandbox="unsafe",
                            model=dgm.ModelConfig(base_url=fake.url))
        summary = dgm.Run(cfg, archive=arch, unsafe=True).start()
        calls = len(fake.completion_requests)
    assert summary.status == "finished" and calls == 3
    metered = summary.model_cost
    assert metered > 1e-4 and summary.model_calls == calls  # so that twice it would show

    with dgm.open_archive(arch) as a:
        spent = a.spend()
        assert spent.calls == calls and spent.cost == pytest.approx(metered, rel=1e-9)
        assert a.spend(run=summary.run_id).cost == pytest.approx(metered, rel=1e-9)
        attributed = sum(p["cost"] for p in a.proposals())
        assert attributed == pytest.approx(metered, rel=1e-9)  # the same money, not more
    with Archive.open(arch, readonly=True) as a:
        s = web_data.summary(a)
    assert s["cost"]["total_cost"] == pytest.approx(metered, rel=1e-9)
    (run,) = s["runs"]
    assert run["cost"] == pytest.approx(metered, rel=1e-9)

    out = subprocess.run([DGM, "status", "--archive", str(arch)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    shown = float(re.search(r"cost \$([0-9.]+)", out.stdout).group(1))
    assert shown == pytest.approx(metered, abs=5e-5)  # printed to 4 decimals
