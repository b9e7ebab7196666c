"""Figures for the local model path: server speed and how often its edits apply.

    .venv/bin/python bench/local_model.py [--proposals 20] [--archive ARCHIVE] [--out FILE.json]

Per installed model (dgm/models/local): prompt and generation tokens/s (llama.cpp's own
timings of a ~1,000-token prompt), then ``--proposals`` proposals of the llm proposer
in focused mode on the meta-learner seed (agents/metalearner) through the real gateway,
in each of ``--modes``: ``default`` (the model's registered mix of code edits and
search-space moves), ``code`` (schema-constrained code edits only), ``space``
(search-space moves only) and ``free`` (SEARCH/REPLACE blocks): seconds per proposal
and the applied-edit rate (proposals whose answer, after at most one retry, parsed
and applied cleanly / all proposals) with its 95 % Wilson interval. ``--archive`` gives the
proposer a real archive whose seed was evaluated (its results and logs go into the
prompt); without it the prompt holds no results. Threads: $DGM_MODEL_THREADS or up to 4.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from dgm.config import load_config  # noqa: E402
from dgm.models.local.install import installed  # noqa: E402
from dgm.models.local.registry import MODELS  # noqa: E402
from dgm.models.local.server import LocalServer  # noqa: E402
from dgm.proposers.base import ProposalRejected, ProposeContext  # noqa: E402
from dgm.proposers.llm import LLMProposer, LLMProposerConfig  # noqa: E402
from dgm.engine.launch import start_gateway  # noqa: E402


class _Say:
    def message(self, line: str) -> None:
        print("  " + line, file=sys.stderr)


def speed(server: LocalServer) -> dict:
    filler = (ROOT / "agents" / "metalearner" / "train.py").read_text()[:3500]
    body = {"model": server.spec.name, "max_tokens": 128, "temperature": 0.0,
            "messages": [{"role": "user", "content": filler + "\n\nSummarise this code."}]}
    r = httpx.post(server.base_url + "/chat/completions", json=body, timeout=600).json()
    t = r["timings"]
    return {"prompt_tokens": t["prompt_n"], "prompt_tok_s": t["prompt_per_second"],
            "gen_tokens": t["predicted_n"], "gen_tok_s": t["predicted_per_second"]}


MODES = ("default", "code", "space", "free")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a rate k/n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / d
    return max(0.0, c - h), min(1.0, c + h)


def proposals(access, spec, n: int, mode: str, archive, parent_id: str, seed: int) -> dict:
    """``mode``: default (the model's own mix of code edits and search-space moves), code
    (constrained code edits only), space (search-space moves only), free (SEARCH/REPLACE)."""
    share = {"default": spec.space_share, "code": 0.0, "space": 1.0, "free": 0.0}[mode]
    cfg = LLMProposerConfig(focused=True, constrained=mode != "free", prompt_tokens=spec.prompt_tokens,
                            max_tokens=spec.answer_tokens, max_edits=spec.max_edits,
                            single_line=spec.single_line, space_share=share)
    proposer = LLMProposer(access, cfg)
    seconds, applied, retried, reasons, kinds, diffs = [], 0, 0, [], {}, set()
    for i in range(n):
        with tempfile.TemporaryDirectory() as tmp:
            parent = Path(tmp) / "parent"
            shutil.copytree(ROOT / "agents" / "metalearner", parent,
                            ignore=shutil.ignore_patterns("__pycache__"))
            ctx = ProposeContext(parent_id=parent_id, parent_dir=parent,
                                 rng=random.Random(seed * 1000 + i), archive=archive,
                                 work_dir=Path(tmp) / "work")
            t0 = time.monotonic()
            try:
                p = proposer.propose(ctx)
                applied += 1
                diffs.add(p.diff)
                retried += p.meta.get("attempts", 1) > 1
                kinds[p.meta.get("question", "code")] = kinds.get(p.meta.get("question", "code"), 0) + 1
            except ProposalRejected as exc:
                reasons.append(exc.reason[:300])
                print("      rejected: " + exc.reason[:300].replace("\n", " "), file=sys.stderr)
            seconds.append(time.monotonic() - t0)
        print(f"    {mode} {i + 1}/{n}: "
              f"{seconds[-1]:.1f} s, applied so far {applied}", file=sys.stderr)
    return {"n": n, "applied": applied, "rate": applied / n, "rate_95": wilson(applied, n),
            "after_retry": retried, "applied_by_question": kinds, "distinct": len(diffs),
            "s_mean": statistics.mean(seconds), "s_median": statistics.median(seconds),
            "s_max": max(seconds), "rejections": reasons[:5]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proposals", type=int, default=20)
    ap.add_argument("--archive", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modes", default="default,code,space,free",
                    help=f"which of {', '.join(MODES)} to measure (run one per process to parallelise)")
    a = ap.parse_args()
    modes = a.modes.split(",")
    if bad := [m for m in modes if m not in MODES]:
        ap.error(f"unknown mode {bad[0]!r}; modes: {', '.join(MODES)}")
    archive, parent_id = None, "000000"
    if a.archive is not None:
        from dgm.archive.store import Archive
        archive = Archive.open(a.archive, readonly=True)
        parent_id = archive.query("SELECT id FROM agents WHERE parent IS NULL")[0][0]
    results = {}
    for spec in MODELS.values():
        if installed(spec) is None:
            print(f"{spec.name}: not installed, skipped", file=sys.stderr)
            continue
        cfg = load_config(None, {"proposer": "llm", "workers": 1})
        with LocalServer(spec, log=_Say().message) as server:
            gw = start_gateway(cfg, _Say(), local=server)
            try:
                row = {"threads": server.threads, **speed(server)}
                for mode in modes:
                    row[mode] = proposals(gw.access, spec, a.proposals, mode, archive, parent_id,
                                          a.seed)
                row["gateway_usage"] = gw.usage()
            finally:
                gw.stop()
        results[spec.name] = row
    print("| model | threads | prompt tok/s | gen tok/s | mode | applied (95 % interval) "
          "| s/proposal (mean, median, max) |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        for mode in MODES:
            if mode not in r:
                continue
            m = r[mode]
            print(f"| {name} | {r['threads']} | {r['prompt_tok_s']:.0f} | {r['gen_tok_s']:.1f} | {mode} "
                  f"| {m['applied']}/{m['n']} ({100 * m['rate']:.0f} %, {100 * m['rate_95'][0]:.0f}-"
                  f"{100 * m['rate_95'][1]:.0f} %; {m['distinct']} distinct; {m['after_retry']} after a retry; "
                  f"{m['applied_by_question']}) "
                  f"| {m['s_mean']:.1f}, {m['s_median']:.1f}, {m['s_max']:.1f} |")
    if a.out:
        a.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
