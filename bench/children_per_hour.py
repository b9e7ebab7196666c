"""Children per hour: the local executor vs Ray with 1 and 2 worker nodes, on this machine.

    .venv/bin/python bench/children_per_hour.py [--suite toy|icl] [--children N]
                                                [--configs local-1,local-2,ray-1,ray-2]

Each configuration is one fresh `dgm run` (mutation proposer, --unsafe so the
figure is the scheduler's and the executor's, not a sandbox's) with the same
seed and budget. ``ray-N`` starts a real Ray cluster first: a head node with
no CPUs (so every evaluation runs on a worker node) and N worker nodes with one
CPU each, and runs `dgm run --executor ray --ray-address ... --workers N`.

Suites: ``toy`` (tests/loop/toy: a 0.1 s evaluation, so the figure is the
per-child overhead of each executor) or ``icl`` (evaluators/icl stage 1 only:
about 15 s of meta-training per child on one idle CPU thread; each run gets an
empty DGM_ICL_CACHE, so no run reuses another's checkpoints or baselines).
A run whose agents were not all evaluated (a failed agent) stops the script.

Printed per configuration: children/hour over the loop (the run's own clock,
after the executor is connected) and over the whole command (interpreter,
imports, `ray.init`), the median time of one stage where it ran (the
``stage_seconds`` each evaluation records), and how long the Ray cluster took
to start. With ``--repeat N`` the configurations take turns, N rounds, and the
medians are shown.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dgm.archive.store import Archive  # noqa: E402
from tests.ray.cluster_helpers import DGM, TOY, LocalRayCluster  # noqa: E402

SUITES = {
    "toy": ["--suite", str(TOY / "suite"), "--seed-agent", str(TOY / "agent")],
    "icl": ["--suite", "icl", "--seed-agent", "agents/metalearner", "--max-stages", "1"],
}


def one_run(archive: Path, suite: str, children: int, workers: int, env: dict,
            extra: list[str]) -> dict:
    args = [DGM, "run", "--archive", str(archive), *SUITES[suite], "--children", str(children),
            "--workers", str(workers), "--seed", "1", "--unsafe", "--json", *extra]
    t0 = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=3600)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{r.stderr[-3000:]}")
    summary = json.loads(r.stdout.splitlines()[-1])
    with Archive.open(archive, readonly=True) as a:  # a figure only counts evaluated children
        failed = a.query("SELECT id, reason FROM agents WHERE status='failed'")
        evaluated = a.query("SELECT COUNT(DISTINCT agent) FROM evaluations")[0][0]
        stage_s = [float(t) for (t,) in a.query("SELECT text FROM artifacts WHERE name='stage_seconds'")]
    if failed or evaluated != summary["children"] + 1:
        raise SystemExit(f"{archive}: {evaluated} agents evaluated, failed: {failed}")
    return {"children": summary["children"], "loop_s": summary["seconds"], "wall_s": wall,
            "stage_s": statistics.median(stage_s)}


def run_config(name: str, suite: str, children: int, tmp: Path) -> dict:
    kind, n = name.split("-")
    n = int(n)
    cluster = LocalRayCluster(Path(tempfile.mkdtemp(prefix="dgmray-", dir="/tmp")))
    # A fresh icl cache per run: no configuration reuses another's meta-training checkpoints.
    cluster.env["DGM_ICL_CACHE"] = str(cluster.root / "icl-cache")
    try:
        started = 0.0
        extra: list[str] = []
        if kind == "ray":
            t0 = time.monotonic()
            cluster.start_node("head", head=True, cpus=0)
            for i in range(n):
                cluster.start_node(f"worker{i}")
            started = time.monotonic() - t0
            extra = ["--executor", "ray", "--ray-address", cluster.address]
        tmp.mkdir(parents=True, exist_ok=True)
        res = one_run(tmp / name, suite, children, n, cluster.env, extra)
        res["cluster_s"] = started
        return res
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=sorted(SUITES), default="toy")
    ap.add_argument("--children", type=int, default=None, help="budget per run (toy 24, icl 4)")
    ap.add_argument("--configs", default="local-1,local-2,ray-1,ray-2")
    ap.add_argument("--repeat", type=int, default=1, help="runs per configuration (the median is shown)")
    a = ap.parse_args()
    children = a.children or (24 if a.suite == "toy" else 4)
    print(f"suite {a.suite}, {children} children per run, mutation proposer, --unsafe, "
          f"median of {a.repeat} run(s)", flush=True)
    print(f"{'config':<10}{'workers':>8}{'children/h (loop)':>19}{'children/h (wall)':>19}"
          f"{'loop s':>9}{'wall s':>9}{'stage s':>9}{'cluster start s':>17}", flush=True)
    with tempfile.TemporaryDirectory(prefix="dgm-bench-ray-") as tmp:
        names = [n.strip() for n in a.configs.split(",")]
        runs: dict[str, list[dict]] = {n: [] for n in names}
        for i in range(a.repeat):  # round robin: a busy spell on the machine hits every config
            for name in names:
                runs[name].append(run_config(name, a.suite, children, Path(tmp) / str(i)))
                if a.repeat > 1:
                    print(f"  {name} run {i + 1}: loop {runs[name][-1]['loop_s']:.1f} s", flush=True)
        for name in names:
            r = {k: statistics.median(x[k] for x in runs[name])
                 for k in ("children", "loop_s", "wall_s", "cluster_s", "stage_s")}
            per_loop = 3600 * r["children"] / r["loop_s"]
            per_wall = 3600 * r["children"] / r["wall_s"]
            start = f"{r['cluster_s']:.1f}" if r["cluster_s"] else "-"
            print(f"{name:<10}{name.split('-')[1]:>8}{per_loop:>19,.0f}{per_wall:>19,.0f}"
                  f"{r['loop_s']:>9.1f}{r['wall_s']:>9.1f}{r['stage_s']:>9.2f}{start:>17}", flush=True)


if __name__ == "__main__":
    main()
