"""bench/gpu_icl.sh in its CPU-sized --tiny mode, and its Fashion-MNIST fallback."""

import importlib.util
import os
import subprocess

import pytest

from icl_helpers import REPO

BENCH = REPO / "bench" / "gpu_icl.sh"


def _bench_module():
    spec = importlib.util.spec_from_file_location("gpu_icl_bench", REPO / "bench" / "gpu_icl.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fallback_without_fashion(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DGM_FASHION_MNIST_DIR", str(tmp_path))
    mod = _bench_module()
    params = mod.fashion_fallback({"train_pool": "fashion_mnist_train",
                                   "pools": ["fashion_mnist_test", "digits_all", "wine"]})
    assert params["train_pool"] == "digits_train"
    assert params["pools"] == ["digits_heldout", "wine"]
    out = capsys.readouterr().out
    assert "dataset-fashion-mnist" in out and "--fashion-dir" in out


@pytest.mark.slow
def test_tiny_run_prints_accuracies_and_throughput(tmp_path, icl_cache):
    env = {**os.environ, "DGM_ICL_CACHE": str(icl_cache), "PYTHON": str(REPO / ".venv" / "bin" / "python")}
    if not (REPO / ".venv" / "bin" / "python").exists():
        env.pop("PYTHON")
    r = subprocess.run(["bash", str(BENCH), "--tiny", "--device", "cpu", "--json", str(tmp_path / "r.json")],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for needle in ("| wine/ctx50 |", "samples/s", "achieved TFLOP/s", "# Diagnostics", "steps/s"):
        assert needle in r.stdout
    assert (tmp_path / "r.json").is_file()


def test_cuda_without_a_gpu_is_refused_in_one_line(tmp_path):
    import sys
    import torch
    if torch.cuda.is_available():
        pytest.skip("this host has a GPU")
    r = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_icl.py"), "--device", "cuda"],
                       cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "no CUDA device" in r.stderr
