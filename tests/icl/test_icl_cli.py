"""``dgm suite``: list, show, baselines, eval (typer sub-app, mounted by dgm/cli/app.py)."""

import json

import pytest
from typer.testing import CliRunner

from icl_helpers import CENTROID_AGENT
from dgm.cli.suite_cmds import app


@pytest.fixture(autouse=True)
def _cache(icl_cache, monkeypatch):
    monkeypatch.setenv("DGM_ICL_CACHE", str(icl_cache))


def test_list_and_show():
    r = CliRunner().invoke(app, ["list"])
    assert r.exit_code == 0 and "icl" in r.output and "metalearning" in r.output
    r = CliRunner().invoke(app, ["show", "icl"])
    assert r.exit_code == 0 and "stage 2 full" in r.output and "digits_heldout" in r.output


def test_baselines_table():
    r = CliRunner().invoke(app, ["baselines", "icl", "--stage", "smoke"])
    assert r.exit_code == 0, r.output
    acc_table = r.output[r.output.index("query accuracy"):]
    row = next(line for line in acc_table.splitlines() if line.startswith("| digits_heldout/ctx50 |"))
    ceil, chance, majority, nn1, knn5, centroid, lda, logreg = map(float, row.strip("| \n").split("|")[2:])
    # the ceiling is the share of queries whose class occurs in the 50-example context: it
    # depends on this machine's secret task salt (about 0.99 for 10 classes, not always above)
    assert chance < 0.15 and nn1 > 0.6 and logreg > 0.6 and majority < 0.2 and 0.95 < ceil <= 1.0
    # the reference rows, scored with the agent's formula, precede the accuracies
    score_row = next(line for line in r.output.splitlines() if line.startswith("| digits_heldout/ctx50 |"))
    s_chance, s_nn1, s_centroid, s_lda, s_logreg = map(float, score_row.strip("| \n").split("|")[1:])
    assert s_chance == 0.0 and 0.5 < s_logreg < 0.95 and s_nn1 > 0.5
    assert "stage score (mean over tasks of (acc - chance) / (ceiling - chance))" in r.output
    for header in ("1-NN", "5-NN", "centroid", "LDA", "logreg", "majority", "chance"):
        assert header in r.output


def test_bad_stage_and_unknown_suite_are_one_line():
    r = CliRunner().invoke(app, ["baselines", "icl", "--stage", "nope"])
    assert r.exit_code == 2 and "has no stage 'nope'" in r.output
    r = CliRunner().invoke(app, ["baselines", "no-such-suite"])
    assert r.exit_code == 2 and "unknown suite" in r.output


def test_eval_an_agent(tmp_path):
    out = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["eval", "icl", str(CENTROID_AGENT), "--stage", "smoke", "--unsafe",
                                 "--json", str(out)])
    assert r.exit_code == 0, r.output
    assert "stage 1 smoke seed 0: score" in r.output and "# Diagnostics" in r.output
    assert "beats" in r.output and "| LDA |" in r.output  # per-pool comparison, score table
    rec = json.loads(out.read_text())
    assert rec[0]["stage"] == "smoke" and len(rec[0]["results"]) == 240 and rec[0]["score"] > 0.5
    assert rec[0]["se"] > 0


def test_eval_on_cuda_without_a_gpu_is_refused_in_one_line():
    import torch
    if torch.cuda.is_available():
        pytest.skip("this host has a GPU")
    r = CliRunner().invoke(app, ["eval", "icl", str(CENTROID_AGENT), "--device", "cuda", "--unsafe"])
    assert r.exit_code == 2
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "no CUDA device" in lines[0]
    r = CliRunner().invoke(app, ["eval", "icl", str(CENTROID_AGENT), "--device", "tpu", "--unsafe"])
    assert r.exit_code == 2 and "cpu or cuda" in r.output


def test_missing_pool_is_one_line_naming_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("DGM_FASHION_MNIST_DIR", str(tmp_path))
    r = CliRunner().invoke(app, ["baselines", "icl", "--stage", "full"])
    assert r.exit_code == 2
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "dataset-fashion-mnist" in lines[0] and lines[0].startswith("error:")


def test_suite_check_fails_early(tmp_path, monkeypatch):
    from icl_helpers import load_suite
    from icl_host.pools import MissingPool
    suite = load_suite("icl")
    suite.check()
    monkeypatch.setenv("DGM_FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(MissingPool, match="dataset-fashion-mnist"):
        suite.check()
