"""A torch test agent whose FLOPs are known in closed form (tests/icl/test_compute.py).

Meta-train: STEPS steps, each a batch of B=8 tasks with 10 context and 6 query
examples; the model runs on every one of the 16 examples per task, N = 8·16 = 128
rows. Linear (HIDDEN = 0): forward 2·N·640, backward only the weight gradient
(the input needs none) 2·N·640, so 4·N·640 per step. With a hidden layer H:
forward 2·N·74·H, backward 2·N·64·H (first weights) + 4·N·10·H (second layer's
weight and input gradients), so 4·N·64·H + 6·N·10·H.
Predict: a forward pass over every query, 2·rows·(weights) FLOPs.
UNMETERED = True trains without the meter (the host must refuse that).
Predictions are centroid logits (numpy), so the score is the centroid's.
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

from icl_harness import METER, TaskSampler, load_episodes, parse, save_logits

STEPS = 20
HIDDEN = 0
UNMETERED = False


def model() -> torch.nn.Module:
    torch.manual_seed(0)
    if HIDDEN:
        return torch.nn.Sequential(torch.nn.Linear(64, HIDDEN, bias=False), torch.nn.ReLU(),
                                   torch.nn.Linear(HIDDEN, 10, bias=False))
    return torch.nn.Linear(64, 10, bias=False)


def meta_train(args):
    torch.set_num_threads(1)
    sampler = TaskSampler.load(args.train_pool)
    rng = np.random.default_rng(args.seed)
    m = model()
    opt = torch.optim.SGD(m.parameters(), lr=0.01)
    for _ in range(STEPS):
        t = sampler.sample(rng, 8, 10, 6)
        x = torch.from_numpy(np.concatenate([t.cx, t.qx], 1).reshape(-1, 64))
        y = torch.from_numpy(np.concatenate([t.cy, t.qy], 1).reshape(-1))
        if UNMETERED:
            loss = torch.nn.functional.cross_entropy(m(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            continue
        with METER.step(t):
            loss = torch.nn.functional.cross_entropy(m(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    Path(args.checkpoint, "state.json").write_text(json.dumps({"steps": STEPS}))


def predict(args):
    m = model()
    out = []
    with torch.no_grad():
        for g in load_episodes(args.episodes):
            cx, cy, qx = g["cx"], g["cy"], g["qx"]
            with METER.step((qx.shape, "forward")):
                m(torch.from_numpy(qx.reshape(-1, 64)))
            onehot = np.eye(10)[cy]
            means = np.einsum("bnc,bnd->bcd", onehot, cx) / np.maximum(onehot.sum(1), 1)[..., None]
            out.append(-((qx[:, :, None, :] - means[:, None]) ** 2).sum(-1))
    save_logits(args.out, out)


if __name__ == "__main__":
    args = parse(sys.argv[1], sys.argv[2:])
    meta_train(args) if sys.argv[1] == "meta-train" else predict(args)
