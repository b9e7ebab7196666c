"""Hostile icl outputs, on both real sandboxes: links, a linked checkpoint, an npz bomb,
deep JSON, sparse files. Each is contained and scores 0 with a reason (or, where the
trick only aimed at the host, leaves the score as the control's); the control is
the same agent with attack "none"."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from icl_helpers import CENTROID_AGENT, SMALL_STAGE

HOSTILE = Path(__file__).resolve().parent / "agents" / "hostile_icl"
STAGE = dict(SMALL_STAGE, pools=["wine"], meta_train_timeout=60, predict_timeout=60)
CANARY = b'{"secret": "CANARY-7f3a"}'


def agent(tmp_path: Path, attack: str, target: str | None = None) -> Path:
    d = tmp_path / f"agent-{attack}"
    shutil.copytree(HOSTILE, d)
    shutil.copy(CENTROID_AGENT / "main.py", d / "main.py")
    (d / "attack.json").write_text(json.dumps({"attack": attack, "target": target}))
    return d


@pytest.fixture
def run(make_suite, tmp_path, backend):
    from dgm.suites import EvalContext

    def go(attack: str, target: str | None = None, reuse: bool = False, cache: Path | None = None):
        work = tmp_path / f"work-{attack}"
        work.mkdir()
        suite = make_suite(STAGE, reuse=reuse, cache=cache)
        return suite.evaluate(agent(tmp_path, attack, target), 0,
                              EvalContext(sandbox=backend, workdir=work, seed=0))
    return go


def _canary(tmp_path: Path) -> Path:
    p = tmp_path / "root-only.txt"
    p.write_bytes(CANARY)
    os.chmod(p, 0o600)
    return p


def _all_text(out) -> str:
    return "\n".join([*out.artifacts.values(), *(r.log for r in out.results)])


def test_control_scores_as_the_centroid_agent(run):
    out = run("none")
    assert out.score > 0.5 and all(r.score > 0 for r in out.results[:3])


@pytest.mark.parametrize("attack", ["links", "fd_link"])
def test_planted_links_never_make_the_host_write_or_read(run, tmp_path, attack):
    canary = _canary(tmp_path)
    fd = os.open(canary, os.O_RDWR)  # an fd of the engine that /proc/self/fd/N names
    try:
        out = run(attack, str(fd) if attack == "fd_link" else str(canary))
    finally:
        os.close(fd)
    assert canary.read_bytes() == CANARY and oct(canary.stat().st_mode)[-3:] == "600"
    assert "CANARY" not in _all_text(out)
    assert out.score > 0.5  # the host's files live in /inputs: the links aimed at nothing


def test_a_linked_checkpoint_is_not_copied_into_the_cache(run, tmp_path):
    secret = tmp_path / "host-secret"
    secret.mkdir()
    (secret / "dgm.db").write_bytes(CANARY)
    cache = tmp_path / "cache"
    out = run("checkpoint_link", str(secret), reuse=True, cache=cache)
    assert out.score == 0.0
    assert "meta-train output rejected" in out.results[0].log and "symbolic link" in out.results[0].log
    for root, _dirs, files in os.walk(cache):
        for f in files:
            assert b"CANARY" not in Path(root, f).read_bytes(), f"{root}/{f} holds the host's secret"
    # control: a normal checkpoint is cached as plain files
    ok = run("none", reuse=True, cache=cache)
    assert ok.score > 0.5
    cached = [Path(r, f) for r, _d, fs in os.walk(cache / "checkpoints") for f in fs]
    assert any(p.name == "state.json" for p in cached) and not any(p.is_symlink() for p in cached)


def test_an_npz_bomb_scores_zero_without_inflating(run):
    out = run("npz_bomb")
    assert out.score == 0.0
    assert "declares 629145600 bytes, more than" in out.results[0].log  # read from the header only


def test_deep_json_stats_score_zero_instead_of_crashing(run):
    out = run("deep_stats")
    assert out.score == 0.0 and "nested deeper than" in out.results[0].log


def test_sparse_files_count_at_their_apparent_size(run, tmp_path):
    out = run("sparse")
    assert out.score == 0.0 and "scratch quota" in out.results[0].log
    scratch = tmp_path / "work-sparse" / "icl-test0"
    back = [p for p in scratch.rglob("sparse*.bin")]
    # 3 x 500 MB apparent against the suite's 1024 MiB quota: what came back fits the quota
    assert len(back) < 3 and sum(p.stat().st_size for p in back) <= 1024 << 20
    dense = run("dense")  # the control: real bytes within the quota pass
    assert dense.score > 0.5
