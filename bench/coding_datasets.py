"""Grading time per task of the swe-bench and polyglot suites on generated fixtures.

    PYTHONPATH=. .venv/bin/python bench/coding_datasets.py [--reps 3] [--sandbox docker]

Builds the test fixtures (3 SWE-bench instances over local repositories, one
Polyglot exercise per language), grades each answer ``--reps`` times one at a
time (workers = 1) and prints the median and min-max seconds of one sandboxed
grading call per task. Polyglot needs `dgm sandbox build --with polyglot`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "coding_suites"))

from polyglot_fixture import build_tree  # noqa: E402
from swebench_fixture import REGRESSION, build_dataset  # noqa: E402


def row(name: str, secs: list[float]) -> str:
    return f"| {name} | {statistics.median(secs):.2f} | {min(secs):.2f}-{max(secs):.2f} | {len(secs)} |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sandbox", default="docker")
    ap.add_argument("--languages", default="python,go,rust,cpp")
    args = ap.parse_args()
    from dgm.sandbox.select import choose_sandbox
    from dgm.suites import load_suite

    tmp = Path(tempfile.mkdtemp(prefix="bench-coding-datasets-"))
    path, mirror, _ = build_dataset(tmp / "swe")
    os.environ.update(DGM_SWEBENCH_INSTANCES=str(path), DGM_SWEBENCH_REPOS=str(mirror),
                      DGM_SWEBENCH_CACHE=str(tmp / "cache"), DGM_POLYGLOT_ROOT=str(build_tree(tmp / "pg")),
                      DGM_POLYGLOT_LANGUAGES=args.languages)
    box = choose_sandbox(args.sandbox, echo=lambda line: print(line, file=sys.stderr))
    print("| task (answer) | median s | min-max s | n |\n|---|---|---|---|")
    swe = load_suite("swe-bench")
    swe.grading = swe.grading.model_copy(update={"workers": 1})
    answers = {"acme__calc-1": ("gold", swe.tasks["acme__calc-1"].gold_patch), "acme__strs-2": ("empty", ""),
               "acme__mathx-3": ("P2P regression", REGRESSION)}
    for tid, (what, patch) in answers.items():
        secs = [swe.grade(tid, patch, box).seconds for _ in range(args.reps)]
        print(row(f"swe-bench {tid} ({what})", secs), flush=True)
    pg = load_suite("polyglot")
    pg.grading = pg.grading.model_copy(update={"workers": 1})
    for tid in sorted(pg.tasks):
        secs = [pg.grade(tid, pg.tasks[tid].reference_patch(), box).seconds for _ in range(args.reps)]
        print(row(f"polyglot {tid} (reference)", secs), flush=True)
    box.close()


if __name__ == "__main__":
    main()
