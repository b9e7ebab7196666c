"""The loop's own overhead per child at archive sizes of 1k and 10k agents.

Overhead = the scheduler's time per child: parent selection, committing the
child (git + SQLite), journaling events, recording results, updating the
selection view. Proposal and evaluation run as futures and are excluded: the
proposer here returns a one-line change and the suite answers instantly.

    python bench/loop_overhead.py [--sizes 1000 10000] [--children 200]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dgm.archive.store import Archive  # noqa: E402
from dgm.engine.evaluation import Runtime, make_plan  # noqa: E402
from dgm.engine.executors import LocalExecutor  # noqa: E402
from dgm.engine.loop import Loop, LoopSettings  # noqa: E402
from dgm.engine.progress import Reporter  # noqa: E402
from dgm.proposers.base import Proposal, Proposer  # noqa: E402
from dgm.proposers.textdiff import file_diff  # noqa: E402
from dgm.engine.selection import make_strategy  # noqa: E402
from dgm.suites import StageOutcome, StageSpec, Suite, SuiteSpec, TaskResult  # noqa: E402


class InstantSuite(Suite):
    def evaluate(self, agent_dir, stage, ctx):
        rng = random.Random(str(agent_dir))
        return StageOutcome([TaskResult(f"t{i}", rng.random(), rng.random() > 0.5) for i in range(5)])


class OneLineProposer(Proposer):
    name = "one-line"

    def propose(self, ctx):
        old = (ctx.parent_dir / "agent.py").read_text()
        return Proposal(file_diff("agent.py", old, old + f"x = {ctx.rng.random()!r}\n"), "append a line")


def synthetic_archive(path: Path, n: int) -> Archive:
    """n admitted agents in a random tree; rows and refs written in bulk."""
    seed_dir = path.parent / "seed"
    seed_dir.mkdir(parents=True, exist_ok=True)
    (seed_dir / "agent.py").write_text("x = 0\n")
    a = Archive.create(path)
    sid = a.add_seed(seed_dir)
    a.set_status(sid, "evaluating")
    a.set_status(sid, "admitted")
    commit, tree = a.agent(sid).commit_sha, a.agent(sid).tree
    rng = random.Random(0)
    rows, refs, now = [], [], time.time()
    for i in range(2, n + 1):
        parent = f"{rng.randint(1, i - 1):06d}"
        rows.append([f"{i:06d}", i, commit, tree, parent, None, "admitted", None, "bench", 1, 1,
                     "synthetic", rng.random(), now, now])
        refs.append(f"update refs/dgm/agents/{i:06d} {commit}\n")
    with a._tx():
        a.db.conn.executemany("INSERT INTO agents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    a.git.git("update-ref", "--stdin", input="".join(refs).encode())
    a._next_seq = n + 1
    return a


def measure(n: int, children: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="dgm-bench-loop-"))
    try:
        a = synthetic_archive(tmp / "a", n)
        spec = SuiteSpec(name="instant", domain="metalearning", stages=[StageSpec(name="s1")])
        Runtime._suites["instant"] = InstantSuite(spec)
        Runtime._sandboxes["unsafe"] = None
        settings = LoopSettings(run_id="bench", budget=children, workers=2, seed=0, sandbox="unsafe")
        loop = Loop(a, settings, make_plan([Runtime._suites["instant"]]), OneLineProposer(),
                    make_strategy("dgm"), LocalExecutor(2), Reporter(children))
        t0 = time.perf_counter()
        loop.run()
        wall = time.perf_counter() - t0
        assert loop.children == children, loop.children
        return {"agents": n, "children": children, "overhead_ms": 1000 * loop.overhead / children,
                "wall_ms_per_child": 1000 * wall / children}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--children", type=int, default=200)
    args = ap.parse_args()
    print(f"{'agents':>8} {'children':>9} {'loop overhead ms/child':>24} {'wall ms/child':>14}")
    for n in args.sizes:
        r = measure(n, args.children)
        print(f"{r['agents']:>8} {r['children']:>9} {r['overhead_ms']:>24.1f} {r['wall_ms_per_child']:>14.1f}")


if __name__ == "__main__":
    main()
