"""Prediction: one forward pass per chunk of episodes, no gradient step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from icl_harness import METER, N_SLOTS, PROJ_DIM, load_episodes, save_logits
from model import InContextLearner

CHUNK = 256  # episodes per forward pass  # dgm: freeze


def load_model(checkpoint: str, device: torch.device) -> InContextLearner:
    state = torch.load(Path(checkpoint) / "model.pt", map_location=device, weights_only=True)
    model = InContextLearner(d_in=PROJ_DIM, n_labels=N_SLOTS, **state["cfg"]).to(device)
    model.load_state_dict(state["state_dict"])
    return model.eval()


@torch.no_grad()
def predict(args) -> None:
    device = torch.device(args.device)
    model = load_model(args.checkpoint, device)
    out = []
    for group in load_episodes(args.episodes):
        parts = []
        for i in range(0, len(group["cx"]), CHUNK):
            cx, cy, qx = (torch.from_numpy(group[k][i:i + CHUNK]).to(device)
                          for k in ("cx", "cy", "qx"))
            with METER.step((tuple(cx.shape), tuple(qx.shape))):
                parts.append(model(cx, cy, qx).float().cpu().numpy())
        out.append(np.concatenate(parts) if parts else np.zeros((0, 0, N_SLOTS), np.float32))
    save_logits(args.out, out)
