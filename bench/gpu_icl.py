"""The icl suite's full GPU tier on one device: accuracies, baselines and throughput.

    bench/gpu_icl.sh [--tiny] [--fashion-dir DIR] [--device cuda] [--seconds S] [--steps N]

Meta-trains the seed agent (agents/metalearner, tier "gpu": the larger model) on
Fashion-MNIST's training set, then scores it on the tier's unseen pools
(suite.toml [tiers.gpu]). Prints the per-cell table against the baselines, the
diagnostics and the throughput: training samples/s, steps/s and achieved
TFLOP/s (counted by torch's FlopCounterMode), and predict episodes/s.
--tiny shrinks everything so it runs on a CPU in about a minute (tests use it).
Runs the agent as a plain local subprocess by default: it is the repository's
own seed agent, and the GPU machine need not have Docker.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dgm.sandbox.local import LocalSandbox  # noqa: E402
from dgm.suites import EvalContext, load_spec, load_suite  # noqa: E402

# --tiny: the same path at CPU size (the small model, a few steps, a few tasks).
TINY = {"steps": 20, "seconds": 120, "tasks": 6, "diag_tasks": 4, "seen_tasks": 4, "tier": "smoke",
        "pools": ["fashion_mnist_test", "wine"], "threads": 2, "memory_mb": 8192}
# The local backend's memory limit is RLIMIT_AS, which CUDA's large address-space
# reservations exceed at any sane value; on a GPU it is effectively lifted.
CUDA_LOCAL_MEMORY_MB = 1 << 27  # 128 TiB: the whole x86-64 user address space


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="a CPU-sized smoke run of the same path")
    p.add_argument("--fashion-dir", type=Path, help="folder with Fashion-MNIST's four idx .gz files")
    p.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    p.add_argument("--steps", type=int, help="override the tier's step budget")
    p.add_argument("--seconds", type=float, help="override the tier's time budget")
    p.add_argument("--tasks", type=int, help="override T, tasks per (pool, n_ctx)")
    p.add_argument("--agent", type=Path, default=REPO / "agents" / "metalearner")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sandbox", default="local", help="local (default), auto, docker or bwrap")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    return p.parse_args()


def device_name(device: str) -> str:
    import torch
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (torch {torch.__version__}, CUDA {torch.version.cuda})"
    return f"CPU, {os.cpu_count()} cores (torch {torch.__version__})"


def tier_params(args: argparse.Namespace) -> dict:
    spec = load_spec("icl")
    params = dict((spec.model_extra or {}).get("tiers", {}).get("gpu", {}))
    if not params:
        sys.exit("suite.toml has no [tiers.gpu] table")
    if args.tiny:
        params.update(TINY)
    for key in ("steps", "seconds", "tasks"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    return params


def fashion_fallback(params: dict) -> dict:
    """Without Fashion-MNIST, meta-train on digits instead and say so clearly."""
    from icl_host.pools import MissingPool, load_pool
    try:
        load_pool("fashion_mnist_train")
        return params
    except MissingPool as exc:
        print(f"NOTE: {exc}\nNOTE: falling back to meta-training on digits_train; "
              "pass --fashion-dir DIR to use Fashion-MNIST", flush=True)
    pools = [p for p in params["pools"] if not p.startswith("fashion")]
    pools = [("digits_heldout" if p == "digits_all" else p) for p in pools] or ["digits_heldout", "wine"]
    return {**params, "train_pool": "digits_train", "pools": pools, "diag_pool": pools[0]}


def main() -> int:
    args = parse()
    if args.fashion_dir:
        os.environ["DGM_FASHION_MNIST_DIR"] = str(args.fashion_dir.resolve())
    import torch
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        print(f"gpu_icl: --device {device}, but torch sees no CUDA device on this machine "
              "(run it on a GPU host, or use --device cpu --tiny)", file=sys.stderr)
        return 2
    suite = load_suite("icl")
    workers = max(1, (os.cpu_count() or 2) - 2)
    os.environ.setdefault("DGM_ICL_WORKERS", str(workers))
    params = fashion_fallback(tier_params(args))
    if device.startswith("cuda") and args.sandbox == "local":
        params["memory_mb"] = CUDA_LOCAL_MEMORY_MB
    from icl_host.params import parse_params
    stage = parse_params(params, "tiers.gpu")
    print(f"device: {device_name(device)}", flush=True)
    print(f"tier: train on {stage.train_pool}, budget {stage.train_flops or 0:.3g} FLOPs "
          f"(nets: {stage.steps} steps / {stage.seconds} s), "
          f"T={stage.tasks}, pools {', '.join(stage.pools)}", flush=True)
    t0 = time.monotonic()
    plan = suite.plan(stage)
    t_plan = time.monotonic() - t0
    print(f"episodes and baselines: {t_plan:.1f} s ({workers} worker processes)", flush=True)
    if args.sandbox == "local":
        sandbox = LocalSandbox()
    else:
        from dgm.sandbox.select import choose_sandbox
        sandbox = choose_sandbox(args.sandbox)
    with tempfile.TemporaryDirectory(prefix="dgm-gpu-icl-") as tmp:
        ctx = EvalContext(sandbox=sandbox, workdir=Path(tmp), seed=args.seed, device=device,
                          log=lambda line: print(line, flush=True))
        t1 = time.monotonic()
        out = suite.run_plan(args.agent.resolve(), plan, ctx, "gpu")
        t_eval = time.monotonic() - t1
    print(out.artifacts.get("summary.md", ""))
    print(out.artifacts.get("diagnostics.md", ""))
    if "failure.txt" in out.artifacts:
        print(out.artifacts["failure.txt"])
        return 1
    diag = json.loads(out.artifacts["diagnostics.json"])
    mt = diag["meta_train"]
    n_eps = sum(len(g) for g in plan.predict_groups)
    print("## throughput")
    print(f"meta-training: {mt.get('steps')} steps in {mt.get('seconds', 0):.1f} s, "
          f"{mt.get('params', 0) / 1e6:.2f} M parameters")
    print(f"  samples/s (context + query tokens): {mt.get('samples_per_s', 0):,.0f}")
    print(f"  steps/s: {mt.get('steps_per_s', 0):.2f}")
    print(f"  achieved TFLOP/s (FlopCounterMode, fwd+bwd): {mt.get('tflops', 0):.3f}")
    print(f"predict: {n_eps} episodes, all evaluation {t_eval:.1f} s wall")
    print(f"total wall: {time.monotonic() - t0:.1f} s (+ interpreter start)")
    if args.json:
        args.json.write_text(json.dumps({"device": device_name(device), "params": params,
                                         "score": out.score, "diagnostics": diag}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
