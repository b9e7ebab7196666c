"""A fast, torch-free test agent: nearest class centroid, logits = -squared distance.

``BREAK`` selects a failure for the broken-agent tests (they rewrite this line).
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from icl_harness import TaskSampler, load_episodes, parse, save_logits

BREAK = "none"


def meta_train(args):
    sampler = TaskSampler.load(args.train_pool)  # proves the harness and the pool are reachable
    t = sampler.sample(np.random.default_rng(args.seed), 4, 10, 5)
    if BREAK == "train_crash":
        raise RuntimeError("deliberate crash in meta-train")
    if BREAK == "train_timeout":
        time.sleep(600)
    if BREAK == "big_checkpoint":
        Path(args.checkpoint, "blob.bin").write_bytes(b"\0" * (3 << 20))
    Path(args.checkpoint, "state.json").write_text(json.dumps({"seen": int(t.cx.shape[0])}))
    Path(args.stats or "/dev/null").write_text(json.dumps({"steps": 1, "samples": 60, "seconds": 0.01}))


def predict(args):
    if BREAK == "predict_crash":
        raise RuntimeError("deliberate crash in predict")
    if BREAK == "predict_timeout":
        time.sleep(600)
    if BREAK == "huge_stdout":
        for _ in range(200):
            sys.stdout.write("x" * 100_000 + "\n")
    out = []
    for g in load_episodes(args.episodes):
        cx, cy, qx = g["cx"], g["cy"], g["qx"]
        onehot = np.eye(10)[cy]
        means = np.einsum("bnc,bnd->bcd", onehot, cx) / np.maximum(onehot.sum(1), 1)[..., None]
        out.append(-((qx[:, :, None, :] - means[:, None]) ** 2).sum(-1))
    if BREAK == "wrong_shape":
        out = [a[:, :, :5] for a in out]
    if BREAK == "nan":
        out = [np.full_like(a, np.nan) for a in out]
    if BREAK == "huge_file":
        out = [np.zeros((a.shape[0], a.shape[1], 10_000), np.float32) for a in out]
    if BREAK == "no_output":
        return
    save_logits(args.out, out)


if __name__ == "__main__":
    args = parse(sys.argv[1], sys.argv[2:])
    meta_train(args) if sys.argv[1] == "meta-train" else predict(args)
