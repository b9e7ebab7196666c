"""A set-Transformer in-context learner.

Context tokens are ``W·x + E[y]``; query tokens are ``W·x + E[unknown]``.
Context tokens attend to the whole context; every query token attends to the
context and to itself only, so queries are classified independently and the
order of the context does not matter (no positional encoding).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

import config

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "silu": nn.SiLU}


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_ff), ACTIVATIONS[config.activation](),
                                 nn.Linear(d_ff, d_model))
        self.dropout = nn.Dropout(dropout)

    def attend(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = h.shape
        q, k, v = self.qkv(h).view(b, n, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.dropout(self.out(a.transpose(1, 2).reshape(b, n, d)))

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if config.norm_position == "pre":
            h = h + self.attend(self.norm1(h), mask)
            h = h + self.dropout(self.mlp(self.norm2(h)))
        else:
            h = self.norm1(h + self.attend(h, mask))
            h = self.norm2(h + self.dropout(self.mlp(h)))
        return h


class InContextLearner(nn.Module):
    def __init__(self, d_in: int, n_labels: int, d_model: int, n_layers: int, n_heads: int,
                 d_ff: int, dropout: float, **_: object):
        super().__init__()
        self.n_labels = n_labels
        self.embed_x = nn.Linear(d_in, d_model)
        self.embed_y = nn.Embedding(n_labels + 1, d_model)  # the last row is "unknown"
        self.blocks = nn.ModuleList(Block(d_model, n_heads, d_ff, dropout) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_labels)

    def forward(self, cx: torch.Tensor, cy: torch.Tensor, qx: torch.Tensor) -> torch.Tensor:
        """Logits [B, m, n_labels] for queries ``qx`` [B, m, d] given ``cx`` [B, n, d], ``cy`` [B, n]."""
        n, m = cx.shape[1], qx.shape[1]
        unknown = torch.full(qx.shape[:2], self.n_labels, dtype=torch.long, device=qx.device)
        h = torch.cat([self.embed_x(cx) + self.embed_y(cy),
                       self.embed_x(qx) + self.embed_y(unknown)], dim=1)
        mask = torch.zeros(n + m, n + m, dtype=torch.bool, device=h.device)
        mask[:, :n] = True
        mask[n:, n:] = torch.eye(m, dtype=torch.bool, device=h.device)
        for block in self.blocks:
            h = block(h, mask)
        return self.head(self.norm(h[:, n:]))
