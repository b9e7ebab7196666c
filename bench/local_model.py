"""Figures for the local model path: server speed and how often its edits apply.

    .venv/bin/python bench/local_model.py [--proposals 20] [--archive ARCHIVE] [--out FILE.json]

Per installed model (dgm/localmodel): prompt and generation tokens/s (llama.cpp's own
timings of a ~1,000-token prompt), then ``--proposals`` proposals of the llm proposer
in focused mode on the meta-learner seed (agents/metalearner) through the real gateway,
once with constrained output (the JSON schema) and once free-form (SEARCH/REPLACE
blocks): seconds per proposal and the applied-edit rate (proposals whose answer, after
at most one retry, parsed and applied cleanly / all proposals). ``--archive`` gives the
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
from dgm.localmodel.install import installed  # noqa: E402
from dgm.localmodel.registry import MODELS  # noqa: E402
from dgm.localmodel.server import LocalServer  # noqa: E402
from dgm.proposers.base import ProposalRejected, ProposeContext  # noqa: E402
from dgm.proposers.llm import LLMProposer, LLMProposerConfig  # noqa: E402
from dgm.runner import start_gateway  # noqa: E402


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


def proposals(access, spec, n: int, constrained: bool, archive, parent_id: str, seed: int) -> dict:
    cfg = LLMProposerConfig(focused=True, constrained=constrained, prompt_tokens=spec.prompt_tokens,
                            max_tokens=spec.answer_tokens, max_edits=spec.max_edits,
                            single_line=spec.single_line)
    proposer = LLMProposer(access, cfg)
    seconds, applied, retried, reasons = [], 0, 0, []
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
                retried += p.meta.get("attempts", 1) > 1
            except ProposalRejected as exc:
                reasons.append(exc.reason[:300])
                print("      rejected: " + exc.reason[:300].replace("\n", " "), file=sys.stderr)
            seconds.append(time.monotonic() - t0)
        print(f"    {'constrained' if constrained else 'free'} {i + 1}/{n}: "
              f"{seconds[-1]:.1f} s, applied so far {applied}", file=sys.stderr)
    return {"n": n, "applied": applied, "rate": applied / n, "after_retry": retried,
            "s_mean": statistics.mean(seconds), "s_median": statistics.median(seconds),
            "s_max": max(seconds), "rejections": reasons[:5]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proposals", type=int, default=20)
    ap.add_argument("--archive", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modes", default="constrained,free",
                    help="which output modes to measure (run one per process to parallelise)")
    a = ap.parse_args()
    archive, parent_id = None, "000000"
    if a.archive is not None:
        from dgm.archive import Archive
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
                for mode in a.modes.split(","):
                    row[mode] = proposals(gw.access, spec, a.proposals, mode == "constrained",
                                          archive, parent_id, a.seed)
                row["gateway_usage"] = gw.usage()
            finally:
                gw.stop()
        results[spec.name] = row
    print("| model | threads | prompt tok/s | gen tok/s | output | applied | s/proposal (mean, median, max) |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        for mode in ("constrained", "free"):
            if mode not in r:
                continue
            m = r[mode]
            print(f"| {name} | {r['threads']} | {r['prompt_tok_s']:.0f} | {r['gen_tok_s']:.1f} | {mode} "
                  f"| {m['applied']}/{m['n']} ({100 * m['rate']:.0f} %, {m['after_retry']} after a retry) "
                  f"| {m['s_mean']:.1f}, {m['s_median']:.1f}, {m['s_max']:.1f} |")
    if a.out:
        a.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
