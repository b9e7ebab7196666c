"""A stage's parameters (``[stages.params]`` in suite.toml), validated with defaults."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dgm.errors import validation_error

from .pools import POOLS, TRAIN_POOLS


class StageParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pools: list[str]                       # meta-test pools scored in this stage
    n_ctx: list[int] = Field(default_factory=lambda: [10, 50])
    tasks: int = Field(40, ge=1)           # T: tasks per (pool, n_ctx) cell
    first_task: int = Field(0, ge=0)       # the stage's tasks are first_task .. first_task+T-1
    n_query: int = Field(50, ge=1)
    subset_pools: list[str] = Field(default_factory=list)  # pools whose tasks use 2-10 class subsets
    task_seed: int = 0                     # fixes every meta-test task; not the agent's seed
    train_pool: str = "digits_train"
    steps: int | None = Field(None, ge=1)  # optional step cap passed to the agent (--steps) ...
    seconds: float | None = Field(None, gt=0)  # ... and/or seconds (first reached stops)
    train_flops: float | None = Field(4e12, gt=0)    # the compute budget of meta-train (FLOPs)
    predict_flops: float | None = Field(None, gt=0)  # ... and of predict
    tier: str = "smoke"                    # passed to the agent, which may scale its model
    threads: int = Field(1, ge=1)
    meta_train_timeout: float = Field(120.0, gt=0)
    predict_timeout: float = Field(60.0, gt=0)
    memory_mb: int | None = None           # overrides the suite's [limits] memory
    max_checkpoint_mb: float = 256.0
    diag_pool: str | None = None           # unseen pool of the memorisation gap (default: first pool)
    diag_tasks: int = Field(32, ge=1)
    seen_tasks: int = Field(16, ge=1)      # the sampler's fixed tasks 0..N-1 (GPICL memorisation)

    @model_validator(mode="after")
    def _check(self) -> "StageParams":
        unknown = [p for p in self.pools if p not in POOLS]
        if unknown or not self.pools:
            raise ValueError(f"pools must be among {', '.join(POOLS)}; got {self.pools}")
        if self.train_pool not in TRAIN_POOLS:
            raise ValueError(f"train_pool must be one of {', '.join(TRAIN_POOLS)}")
        if self.steps is None and self.seconds is None and self.train_flops is None:
            raise ValueError("give a meta-training budget: train_flops, steps or seconds")
        if any(n < 1 for n in self.n_ctx):
            raise ValueError("n_ctx values must be positive")
        if self.diag_pool is not None and self.diag_pool not in POOLS:
            raise ValueError(f"diag_pool must be among {', '.join(POOLS)}")
        return self

    @property
    def unseen_pool(self) -> str:
        return self.diag_pool or self.pools[0]


def parse_params(raw: dict[str, Any], where: str) -> StageParams:
    try:
        return StageParams.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, where, top="params") from None
