"""The seed agent follows the conventions the mutation proposer relies on, and runs directly."""

import ast
import json
import os
import re
import subprocess
import sys

from icl_helpers import REPO, SEED_AGENT
from dgm.agents import load_manifest

HARNESS = REPO / "evaluators" / "icl" / "harness"


def test_manifest():
    m = load_manifest(SEED_AGENT)
    assert m.domain == "metalearning" and set(m.commands) >= {"meta-train", "predict"}


def test_choices_are_declared_alternatives():
    src = (SEED_AGENT / "config.py").read_text()
    tree = ast.parse(src)
    alts = next(ast.literal_eval(n.value) for n in tree.body
                if isinstance(n, ast.Assign) and n.targets[0].id == "DGM_ALTERNATIVES")
    marked = re.findall(r'^(\w+) = "(\w+)"\s+# dgm: choice (\w+)$', src, re.M)
    assert len(marked) == len(alts) >= 4
    for var, value, name in marked:
        assert value in alts[name], (var, value)


def test_regions_are_balanced_and_hyperparameters_are_literals():
    for path in SEED_AGENT.glob("*.py"):
        text = path.read_text()
        assert text.count("# dgm: region-begin") == text.count("# dgm: region-end")
    assert "# dgm: region-begin" in (SEED_AGENT / "train.py").read_text()
    tree = ast.parse((SEED_AGENT / "config.py").read_text())
    small = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "SMALL")
    assert all(isinstance(v, ast.Constant) for v in small.values)


def _run(*args, cwd=SEED_AGENT):
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(HARNESS), "PYTHONDONTWRITEBYTECODE": "1",
           "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_meta_train_and_predict_directly(tmp_path):
    """The documented command line, without the suite: stats, checkpoint, logits of the right shape."""
    import numpy as np
    from icl_harness import save_episodes
    from icl_host import episodes, pools
    pools.write_train_pool("digits_train", tmp_path / "pool.npz")
    r = _run("main.py", "meta-train", "--train-pool", str(tmp_path / "pool.npz"), "--checkpoint",
             str(tmp_path / "ck"), "--seed", "3", "--steps", "8", "--stats", str(tmp_path / "s.json"))
    assert r.returncode == 0, r.stderr
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["steps"] == 8 and stats["flops"] > 0 and stats["samples"] > 8 * 32
    g = episodes.cell(pools.load_pool("wine"), 10, 7, 3, task_seed=0)
    save_episodes(tmp_path / "ep.npz", [{"cx": g.tasks.cx, "cy": g.tasks.cy, "qx": g.tasks.qx}])
    r = _run("main.py", "predict", "--episodes", str(tmp_path / "ep.npz"), "--checkpoint",
             str(tmp_path / "ck"), "--out", str(tmp_path / "l.npz"))
    assert r.returncode == 0, r.stderr
    with np.load(tmp_path / "l.npz") as f:
        assert f["logits_0"].shape == (3, 7, 10) and np.isfinite(f["logits_0"]).all()
    assert _run("main.py", "bogus").returncode == 2


def test_gpu_scale_model_builds():
    code = ("import torch, config; from model import InContextLearner\n"
            "cfg = config.for_tier('gpu'); m = InContextLearner(64, 10, **cfg)\n"
            "out = m(torch.randn(2, 9, 64), torch.randint(0, 10, (2, 9)), torch.randn(2, 4, 64))\n"
            "assert out.shape == (2, 4, 10)\n"
            "print(cfg['d_model'], sum(p.numel() for p in m.parameters()))")
    r = _run("-c", code)
    assert r.returncode == 0, r.stderr
    d_model, params = map(int, r.stdout.split())
    assert d_model > config_small_d_model() and params > 1_000_000


def config_small_d_model() -> int:
    tree = ast.parse((SEED_AGENT / "config.py").read_text())
    small = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "SMALL")
    return next(v.value for k, v in zip(small.keys, small.values) if k.value == "d_model")
