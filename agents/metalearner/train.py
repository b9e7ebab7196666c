"""Meta-training: a fresh batch of random tasks per AdamW step, under a step, time or FLOP budget."""

from __future__ import annotations

import json
import math
import queue
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import config
from icl_harness import METER, N_SLOTS, PROJ_DIM, TaskSampler
from model import InContextLearner


def make_optimizer(model: torch.nn.Module, cfg: dict) -> torch.optim.Optimizer:
    if config.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=cfg["lr"], eps=cfg["adam_eps"],
                                 weight_decay=cfg["weight_decay"])
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg["lr"], eps=cfg["adam_eps"])
    return torch.optim.SGD(model.parameters(), lr=cfg["lr"] * 10, momentum=0.9)


def lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    frac = min(1.0, (step - warmup) / max(1, total - warmup))
    if config.schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * frac))
    if config.schedule == "linear":
        return 1.0 - frac
    return 1.0


def query_loss(logits: torch.Tensor, cy: torch.Tensor, qy: torch.Tensor) -> torch.Tensor:
    if config.label_mask == "context":
        # Compete only among the context's labels, like the scorer; a query whose
        # label is absent from its context cannot be answered and is left out.
        present = F.one_hot(cy, logits.shape[-1]).amax(dim=1).bool()  # [B, labels]
        logits = logits.masked_fill(~present[:, None, :], -1e4)
        qy = qy.masked_fill(~present.gather(1, qy), -100)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), qy.reshape(-1),
                           ignore_index=-100)


def batches(sampler: TaskSampler, rng: np.random.Generator, cfg: dict):
    """An endless, seeded stream of (n_ctx, tasks) training batches."""
    while True:
        n_ctx = int(rng.integers(cfg["n_ctx_min"], cfg["n_ctx_max"] + 1))
        ids = rng.integers(0, config.train_tasks, cfg["batch_size"]) if config.train_tasks else None
        yield n_ctx, sampler.sample(rng, cfg["batch_size"], n_ctx, cfg["n_query"],
                                    n_classes=(cfg["n_classes_min"], cfg["n_classes_max"]),
                                    task_ids=ids)


def prefetched(stream, depth: int = 4):  # dgm: freeze
    """Draw batches in a background thread (same order, so just as deterministic)."""
    q: queue.Queue = queue.Queue(depth)
    threading.Thread(target=lambda: [q.put(b) for b in stream], daemon=True).start()
    while True:
        yield q.get()


def meta_train(args) -> dict:
    cfg = config.for_tier(args.tier)
    device = torch.device(args.device)
    sampler = TaskSampler.load(args.train_pool)
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    model = InContextLearner(d_in=PROJ_DIM, n_labels=N_SLOTS, **cfg).to(device)
    opt = make_optimizer(model, cfg)
    steps = args.steps if args.steps is not None else config.train_steps
    deadline = time.monotonic() + args.seconds if args.seconds is not None else math.inf
    cuda = device.type == "cuda"
    stream = prefetched(batches(sampler, rng, cfg)) if cuda else batches(sampler, rng, cfg)
    samples = 0
    dearest = 0  # the costliest step so far: stop before a step could overrun the budget
    recent: deque = deque(maxlen=50)
    start = time.monotonic()
    step = 0
    # dgm: region-begin
    while step < steps and time.monotonic() < deadline and METER.remaining > dearest:
        n_ctx, t = next(stream)
        cx, cy, qx, qy = (torch.from_numpy(a).to(device, non_blocking=True)
                          for a in (t.cx, t.cy, t.qx, t.qy))
        for group in opt.param_groups:
            group["lr"] = cfg["lr"] * lr_factor(step, steps, cfg["warmup_steps"])
        with METER.step(t):  # the harness counts this step's FLOPs (once per shape)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
                loss = query_loss(model(cx, cy, qx), cy, qy)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
            opt.step()
        dearest = max(dearest, METER.cost(t) or 0)
        samples += cfg["batch_size"] * (n_ctx + cfg["n_query"])
        recent.append(loss.detach())
        step += 1
    # dgm: region-end
    if cuda:
        torch.cuda.synchronize()
    seconds = time.monotonic() - start
    out = Path(args.checkpoint)
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"cfg": cfg, "state_dict": model.state_dict()}, out / "model.pt")
    stats = {"steps": step, "samples": samples, "seconds": seconds, "flops": METER.flops,
             "params": sum(p.numel() for p in model.parameters()),
             "final_loss": float(torch.stack(list(recent)).float().mean()) if recent else None,
             "device": str(device), "tier": args.tier}
    if args.stats:
        Path(args.stats).write_text(json.dumps(stats))
    return stats
