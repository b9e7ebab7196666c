"""``dgm suite eval --repeats K --reference AGENT``: statistics over seeds, paired comparison."""

import json
import math
import shutil

import pytest
from typer.testing import CliRunner

from dgm.cli.suite_cmds import app, repeat_report
from icl_helpers import CENTROID_AGENT, REPO, copy_agent


def _runs(scores):
    return [[{"stage": "s1", "score": s, "se": 0.01}] for s in scores]


def test_repeat_statistics_on_known_numbers():
    rep = repeat_report(["s1"], _runs([0.5, 0.6, 0.7]), _runs([0.45, 0.5, 0.65]), "ref")
    e = rep["stages"]["s1"]
    assert e["mean"] == pytest.approx(0.6) and e["sd"] == pytest.approx(0.1) and e["runs"] == 3
    v = e["vs_reference"]
    assert v["diffs"] == pytest.approx([0.05, 0.1, 0.05])
    assert v["mean_diff"] == pytest.approx(0.2 / 3)
    sd = math.sqrt(((0.05 - 0.2 / 3) ** 2 * 2 + (0.1 - 0.2 / 3) ** 2) / 2)
    assert v["sd_diff"] == pytest.approx(sd) and v["t"] == pytest.approx((0.2 / 3) / (sd / math.sqrt(3)))
    # a stage only some seeds reached counts only those
    rep = repeat_report(["s1", "s2"], _runs([0.5, 0.6]), None, None)
    assert "s2" not in rep["stages"] and "vs_reference" not in rep["stages"]["s1"]


@pytest.fixture
def small_suite(tmp_path):
    """The real suite with one small stage, as a suite directory the CLI loads by path."""
    dest = tmp_path / "icl-small"
    shutil.copytree(REPO / "evaluators" / "icl", dest, ignore=shutil.ignore_patterns("__pycache__"))
    text = (dest / "suite.toml").read_text()
    head = text[:text.index("[[stages]]")].replace('name = "icl"', 'name = "icl-small"')
    (dest / "suite.toml").write_text(head + """
[[stages]]
name = "only"
[stages.params]
pools = ["wine"]
n_ctx = [10, 25]
tasks = 10
n_query = 20
diag_tasks = 4
seen_tasks = 4
train_flops = 1e9
meta_train_timeout = 120
predict_timeout = 120
""")
    return dest


def test_repeats_cli_reports_mean_sd_and_paired_difference(small_suite, tmp_path, icl_cache, monkeypatch):
    monkeypatch.setenv("DGM_ICL_CACHE", str(icl_cache))
    # an agent whose predictions depend on the seed: centroid logits plus seeded noise
    noisy = copy_agent(CENTROID_AGENT, tmp_path / "noisy", {"main.py": (
        "    save_logits(args.out, out)",
        "    seed = json.loads(Path(args.checkpoint, 'state.json').read_text())['seed']\n"
        "    rng = np.random.default_rng(seed)\n"
        "    out = [a + rng.normal(0, 0.5 * a.std(), a.shape) for a in out]\n"
        "    save_logits(args.out, out)")})
    text = (noisy / "main.py").read_text().replace('json.dumps({"seen": int(t.cx.shape[0])})',
                                                   'json.dumps({"seen": int(t.cx.shape[0]), "seed": args.seed})')
    (noisy / "main.py").write_text(text)
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["eval", str(small_suite), str(noisy), "--repeats", "3", "--reference",
                                 str(CENTROID_AGENT), "--unsafe", "--json", str(out)])
    assert r.exit_code == 0, r.output
    rec = json.loads(out.read_text())
    runs = [run[0]["score"] for run in rec["runs"]]
    refs = [run[0]["score"] for run in rec["reference_runs"]]
    assert [run[0]["seed"] for run in rec["runs"]] == [0, 1, 2]
    assert len(set(runs)) == 3 and len(set(refs)) == 1  # the noise moves with the seed; centroid doesn't
    e = rec["summary"]["stages"]["only"]
    mean = sum(runs) / 3
    assert e["mean"] == pytest.approx(mean) and e["sd"] > 0
    assert e["vs_reference"]["diffs"] == pytest.approx([a - b for a, b in zip(runs, refs)])
    assert e["vs_reference"]["mean_diff"] < 0  # noise only hurts
    assert "minus" in r.output and "sd" in r.output
