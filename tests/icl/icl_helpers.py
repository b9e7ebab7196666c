"""Fixtures for the icl suite's tests: a sandbox backend, suites with test stages, agents."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from dgm.sandbox.local import LocalSandbox
from dgm.suites import EvalContext, StageSpec, load_spec, load_suite

REPO = Path(__file__).resolve().parents[2]
SEED_AGENT = REPO / "agents" / "metalearner"
CENTROID_AGENT = Path(__file__).resolve().parent / "agents" / "centroid"

load_suite("icl")  # imports scorer.py, which puts icl_host and icl_harness on sys.path
scorer = sys.modules["dgm_suite_icl"]


def pick_sandbox():
    """The project's automatic choice once dgm.sandbox.select exists; LocalSandbox until then.

    DGM_TEST_SANDBOX=local forces the unsafe backend (e.g. where no image is built).
    """
    wanted = os.environ.get("DGM_TEST_SANDBOX", "auto")
    if wanted in ("local", "unsafe"):
        return LocalSandbox()
    try:
        from dgm.sandbox.select import choose_sandbox  # type: ignore[import-not-found]
    except ImportError:
        return LocalSandbox()
    chosen = choose_sandbox(wanted)
    return chosen[0] if isinstance(chosen, tuple) else chosen


@pytest.fixture(scope="session")
def sandbox():
    sb = pick_sandbox()
    yield sb
    sb.close()


@pytest.fixture(scope="session")
def icl_cache(tmp_path_factory) -> Path:
    """Baselines are computed once per session, not per test."""
    return tmp_path_factory.mktemp("icl-cache")


@pytest.fixture
def make_suite(icl_cache):
    """An IclSuite with the real suite.toml, or with the given stage params instead."""
    def make(*params: dict[str, Any], reuse: bool = False, cache: Path | None = None):
        spec = load_spec("icl")
        if params:
            spec = spec.model_copy(update={"stages": [StageSpec(name=f"test{i}", params=p)
                                                      for i, p in enumerate(params)]})
        return scorer.IclSuite(spec, cache_dir=cache or icl_cache, reuse_checkpoints=reuse)
    return make


@pytest.fixture
def make_ctx(sandbox, tmp_path):
    def make(seed: int = 0, name: str = "eval") -> EvalContext:
        work = tmp_path / name
        work.mkdir(parents=True, exist_ok=True)
        return EvalContext(sandbox=sandbox, workdir=work, seed=seed)
    return make


def copy_agent(src: Path, dest: Path, replace: dict[str, tuple[str, str]] | None = None) -> Path:
    """Copy an agent, applying {file: (old, new)} text edits (each must match)."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
    for name, (old, new) in (replace or {}).items():
        path = dest / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {path}"
        path.write_text(text.replace(old, new, 1))
    return dest


# A small, fast stage for tests with the centroid agent.
SMALL_STAGE = {"pools": ["digits_heldout", "wine"], "tasks": 6, "diag_tasks": 4, "seen_tasks": 4,
               "steps": 1, "meta_train_timeout": 60, "predict_timeout": 60}
