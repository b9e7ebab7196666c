"""Hyper-parameters of the seed meta-learner: plain literals, meant to be edited by evolution.

``# dgm: choice NAME`` marks a variable the mutation proposer may switch to any
value listed under NAME in DGM_ALTERNATIVES.
"""

DGM_ALTERNATIVES = {
    "activation": ["gelu", "relu", "silu"],
    "norm_position": ["pre", "post"],
    "optimizer": ["adamw", "adam", "sgd"],
    "schedule": ["constant", "cosine", "linear"],
    "label_mask": ["none", "context"],
}

activation = "gelu"  # dgm: choice activation
norm_position = "pre"  # dgm: choice norm_position
optimizer = "adamw"  # dgm: choice optimizer
schedule = "constant"  # dgm: choice schedule
# "context": the training loss only competes among labels present in the context,
# as the scorer does at test time.
label_mask = "none"  # dgm: choice label_mask

# Model and training sizes per scale; the suite's tier picks the scale.
SMALL = {
    "d_model": 64,
    "n_layers": 3,
    "n_heads": 1,
    "d_ff": 128,
    "dropout": 0.0,
    "batch_size": 32,
    "n_ctx_min": 5,
    "n_ctx_max": 60,
    "n_query": 20,
    "n_classes_min": 2,
    "n_classes_max": 10,
    "lr": 1e-3,
    "weight_decay": 0.01,
    "adam_eps": 1e-8,
    "warmup_steps": 20,
    "grad_clip": 1.0,
}
# dgm: freeze-begin (the GPU tier's sizes: evolved on the CPU they would change nothing)
LARGE = {
    "d_model": 256,
    "n_layers": 4,
    "n_heads": 4,
    "d_ff": 1024,
    "dropout": 0.0,
    "batch_size": 128,
    "n_ctx_min": 5,
    "n_ctx_max": 100,
    "n_query": 32,
    "n_classes_min": 2,
    "n_classes_max": 10,
    "lr": 3e-4,
    "weight_decay": 0.01,
    "adam_eps": 1e-8,
    "warmup_steps": 200,
    "grad_clip": 1.0,
}
# dgm: freeze-end
TIER_SCALE = {"smoke": "small", "full": "small", "gpu": "large"}

# 0: a fresh random task every step (general in-context learning). N > 0: cycle
# over the sampler's N fixed tasks, the regime where GPICL memorises.
train_tasks = 0
# Optimiser steps when the stage gives no step budget (the icl stages give a FLOP
# budget instead: training also stops before a step could overrun it).
train_steps = 500


def for_tier(tier: str) -> dict:
    """The size settings for a tier (unknown tiers get the small scale)."""
    return dict(LARGE if TIER_SCALE.get(tier, "small") == "large" else SMALL)
