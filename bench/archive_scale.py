"""Archive scale: materialisation against a DGM-style patch chain, add-child latency, lineage load.

1. Materialisation at lineage depth 1, 10, 100, 1000: ``Archive.materialize`` (the
   agent's tree and blobs read from the archive's long-lived ``git cat-file --batch``;
   its CPU time is counted with ours) against the original DGM's way: the seed
   copied, then every ancestor's ``model_patch.diff`` applied in order with
   ``patch -p1`` (one process per patch, run locally here, not through
   ``docker exec`` as DGM does, which only favours the chain). Both trees are
   compared file by file at every depth. "Writing alone" writes the same files
   from memory: the part of any materialisation that is the filesystem's.
2. ``add_child`` latency (median, p90) at 1k and 10k agents. The archive grows
   through the real ``add_child`` (threads share one Archive), so git and SQLite
   hold what a run would leave: one commit per agent, loose objects and refs.
3. ``Lineage.load`` + ``best_path`` at 10k and 100k agents from synthetic rows
   (random tree, statuses, 10 per-task evaluation rows per scored agent; the
   schema's triggers keep each agent's totals as the rows go in), and
   ``Population.from_archive`` (what a resumed run rebuilds) on the same rows.

    python bench/archive_scale.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dgm.archive.store import Archive, format_id  # noqa: E402
from dgm.errors import UnknownAgent  # noqa: E402
from dgm.archive.lineage import Lineage  # noqa: E402
from dgm.engine.population import Population  # noqa: E402

SEED_FILES = 40  # a coding agent's size: DGM's seed is ~40 files, ~200 KB
SEED_LINES = 120


def seed_files(rng: random.Random) -> dict[str, str]:
    files = {"agent.toml": 'name = "bench"\ndomain = "coding"\n[commands]\nsolve = ["python", "main.py"]\n'}
    for i in range(SEED_FILES):
        d = ("tools", "utils", "prompts", "tests")[i % 4]
        files[f"{d}/mod{i:02d}.py"] = "".join(
            f"def f{i}_{j}(x):\n    return x * {rng.randint(0, 999)}  # {'~' * rng.randint(0, 40)}\n"
            for j in range(SEED_LINES // 2))
    return files


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def read_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def unified_diff(old: dict[str, str], new: dict[str, str]) -> str:
    out = []
    for rel in sorted(old.keys() | new.keys()):
        a, b = old.get(rel), new.get(rel)
        if a != b:
            out.extend(difflib.unified_diff(
                (a or "").splitlines(keepends=True), (b or "").splitlines(keepends=True),
                "/dev/null" if a is None else f"a/{rel}", "/dev/null" if b is None else f"b/{rel}"))
    return "".join(out)


def mutate(files: dict[str, str], rng: random.Random, step: int) -> dict[str, str]:
    """One proposal's worth of change: edit two lines of one file, sometimes add a file."""
    new = dict(files)
    rel = rng.choice(sorted(k for k in files if k.endswith(".py")))
    lines = new[rel].splitlines(keepends=True)
    for _ in range(2):
        i = rng.randrange(len(lines))
        lines[i] = f"    return x + {step}  # step {step}\n" if lines[i].startswith("    ") else lines[i]
    lines.insert(rng.randrange(len(lines) + 1), f"# touched at step {step}\n")
    new[rel] = "".join(lines)
    if step % 25 == 0:
        new[f"utils/added_{step}.py"] = f"STEP = {step}\n"
    return new


def timed(fn, reps: int) -> tuple[float, float]:
    """Median wall and median CPU seconds (this process + its git/patch children).

    On a shared machine wall time includes waiting for a core; CPU time is the
    work itself and is what a quiet machine's wall time approaches.
    """
    walls, cpus = [], []
    for _ in range(reps):
        c0 = cpu_seconds()
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
    return statistics.median(walls), statistics.median(cpus)


def cpu_seconds() -> float:
    """This process, its finished children, and its running ones (the archive's git reader)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime + live_children_cpu()


def live_children_cpu() -> float:
    """CPU seconds of running child processes: getrusage counts a child only once reaped."""
    total, proc = 0.0, f"/proc/{os.getpid()}/task"
    try:
        tasks = os.listdir(proc)
    except OSError:
        return 0.0
    for task in tasks:
        try:
            with open(f"{proc}/{task}/children") as f:
                kids = f.read().split()
        except OSError:
            continue
        for kid in kids:
            try:
                with open(f"/proc/{kid}/schedstat") as f:  # nanoseconds on a CPU
                    total += int(f.read().split()[0]) / 1e9
            except (OSError, ValueError, IndexError):
                pass
    return total


# -- 1. materialisation ----------------------------------------------------------
def materialisation(work: Path, depths: list[int], rng: random.Random) -> tuple[Archive, list[dict]]:
    files = seed_files(rng)
    seed_dir = write_tree(work / "seed", files)
    patches = work / "patches"
    patches.mkdir()
    a = Archive.create(work / "arc")
    cur = a.add_seed(seed_dir)
    chain, at_depth, expected = [], {}, {}
    t0 = time.perf_counter()
    for step in range(1, max(depths) + 1):
        new = mutate(files, rng, step)
        diff = unified_diff(files, new)
        r = a.add_child(cur, diff, summary=f"step {step}", proposer="bench")
        assert r.ok, r.reason
        (patches / f"{r.agent_id}.diff").write_text(diff)  # DGM: <node>/model_patch.diff
        cur, files = r.agent_id, new
        chain.append(cur)
        if step in depths:
            at_depth[step], expected[step] = cur, new
    build = time.perf_counter() - t0
    print(f"built a chain of depth {max(depths)} in {build:.1f} s "
          f"({1000 * build / max(depths):.1f} ms per add_child)", flush=True)

    rows = []
    for where, base in scratch_dirs(work):
        try:
            for depth in depths:
                rows.append(compare(a, at_depth[depth], depth, chain, seed_dir, patches, base,
                                    where, expected[depth]))
        finally:
            if base != work:
                shutil.rmtree(base, ignore_errors=True)
    return a, rows


def scratch_dirs(work: Path) -> list[tuple[str, Path]]:
    """Where agents are written: the work directory's disk, and tmpfs when there is one."""
    out = [("disk", work)]
    if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK):
        out.append(("tmpfs", Path(tempfile.mkdtemp(prefix="dgm-bench-", dir="/dev/shm"))))
    return out


def compare(a: Archive, agent: str, depth: int, chain: list[str], seed_dir: Path, patches: Path,
            base: Path, where: str, expected: dict[str, str]) -> dict:
    n = {"ours": 0, "chain": 0, "floor": 0}
    blobs = {rel.encode(): text.encode() for rel, text in expected.items()}

    def floor():  # only writing the files, from memory: what any way of materialising pays
        n["floor"] += 1
        root = os.fsencode(base / f"floor-{depth}-{n['floor']}")
        for rel, data in blobs.items():
            path = root + b"/" + rel
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, data)
            os.close(fd)

    def ours():
        n["ours"] += 1
        a.materialize(agent, base / f"ours-{depth}-{n['ours']}")

    def patch_chain():
        n["chain"] += 1
        dest = base / f"chain-{depth}-{n['chain']}"
        shutil.copytree(seed_dir, dest)
        for anc in chain[:depth]:
            subprocess.run(["patch", "-p1", "-s", "-i", str(patches / f"{anc}.diff")],
                           cwd=dest, check=True)

    w_ours, c_ours = timed(ours, 15)
    w_floor, c_floor = timed(floor, 15)
    w_chain, c_chain = timed(patch_chain, 3 if depth >= 1000 else 5)
    same = read_tree(base / f"ours-{depth}-1") == read_tree(base / f"chain-{depth}-1") == expected
    for d in [*base.glob(f"ours-{depth}-*"), *base.glob(f"chain-{depth}-*"),
              *base.glob(f"floor-{depth}-*")]:
        shutil.rmtree(d)
    row = {"where": where, "depth": depth, "files": len(expected), "ours_ms": 1000 * w_ours, "chain_ms": 1000 * w_chain,
           "ratio": w_chain / w_ours, "ours_cpu_ms": 1000 * c_ours,
           "chain_cpu_ms": 1000 * c_chain, "cpu_ratio": c_chain / c_ours, "identical": same,
           "floor_ms": 1000 * w_floor, "floor_cpu_ms": 1000 * c_floor}
    print(f"  {where:5} depth {depth:>5} ({len(expected)} files): "
          f"ours {row['ours_ms']:7.1f} ms (cpu {row['ours_cpu_ms']:6.1f})"
          f"   chain {row['chain_ms']:8.1f} ms (cpu {row['chain_cpu_ms']:7.1f})"
          f"   writing alone {row['floor_ms']:6.1f} ms (cpu {row['floor_cpu_ms']:5.1f})"
          f"   x{row['ratio']:6.1f} (cpu x{row['cpu_ratio']:6.1f})   identical: {same}", flush=True)
    return row


# -- 2. add_child latency --------------------------------------------------------------
def new_file_diff(path: str, rng: random.Random) -> str:
    body = "".join(f"+v{i} = {rng.random()!r}\n" for i in range(20))
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1,20 @@\n{body}")


def grow(a: Archive, target: int, rng: random.Random, threads: int = 4) -> float:
    """Add children (random parents, real add_child in threads) until ``target`` agents."""
    missing = target - a.count()
    if missing <= 0:
        return 0.0
    seeds = [random.Random(rng.random()) for _ in range(missing)]

    def add(r: random.Random) -> None:
        # a random parent among the agents present now; ids reserved by other threads but
        # not yet committed fall back to the seed
        parent = format_id(r.randint(1, a.count()))
        try:
            a.agent(parent)
        except UnknownAgent:
            parent = "000001"
        res = a.add_child(parent, new_file_diff(f"grow/{r.random()}.py", r), summary="grow",
                          proposer="bench")
        assert res.ok, res.reason

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(add, seeds))
    return time.perf_counter() - t0


def apply_ways(a: Archive, work: Path, rng: random.Random, reps: int) -> dict:
    """The private-index apply (ours) against a checked-out worktree, same diff and parent."""
    files = seed_files(random.Random(1))
    seed = a.agent(a.add_seed(write_tree(work / "apply-seed", files))).commit_sha
    diff = unified_diff(files, mutate(files, rng, 7))
    git = ["git", f"--git-dir={a.git.path}"]
    trees, n = [], [0]

    def worktree():
        n[0] += 1
        d = work / f"wt{n[0]}"
        subprocess.run(git + ["worktree", "add", "-q", "--detach", str(d), seed], check=True,
                       capture_output=True)
        subprocess.run(["git", "apply", "-"], input=diff.encode(), cwd=d, check=True)
        subprocess.run(["git", "add", "-A"], cwd=d, check=True)
        trees.append(subprocess.run(["git", "write-tree"], cwd=d, check=True, capture_output=True,
                                    text=True).stdout.strip())
        subprocess.run(git + ["worktree", "remove", "--force", str(d)], check=True)

    w_idx, c_idx = timed(lambda: trees.append(a.git.apply_diff(seed, diff)), reps)
    w_wt, c_wt = timed(worktree, reps)
    assert len(set(trees)) == 1, "the two ways gave different trees"
    row = {"index_ms": 1000 * w_idx, "index_cpu_ms": 1000 * c_idx, "worktree_ms": 1000 * w_wt,
           "worktree_cpu_ms": 1000 * c_wt}
    print(f"  apply on a private index {row['index_ms']:.1f} ms (cpu {row['index_cpu_ms']:.1f}),"
          f" in a worktree {row['worktree_ms']:.1f} ms (cpu {row['worktree_cpu_ms']:.1f}),"
          " same tree", flush=True)
    return row


def add_latency(a: Archive, size: int, rng: random.Random, n: int) -> dict:
    secs = grow(a, size, rng)
    if secs:
        print(f"  grew to {a.count()} agents in {secs:.0f} s (4 threads)", flush=True)
    size = a.count()
    lat, cpu = [], []
    for i in range(n):
        parent = format_id(rng.randint(1, size))
        diff = new_file_diff(f"probe/{size}_{i}.py", rng)
        res = []
        w, c = timed(lambda: res.append(a.add_child(parent, diff, summary="probe",
                                                    proposer="bench")), 1)
        lat.append(w)
        cpu.append(c)
        assert res[0].ok
    t0 = time.perf_counter()
    problems = a.check()
    t_check = time.perf_counter() - t0
    lat.sort()
    row = {"agents": size, "n": n, "median_ms": 1000 * statistics.median(lat),
           "p90_ms": 1000 * lat[int(0.9 * n)], "cpu_median_ms": 1000 * statistics.median(cpu),
           "check_s": t_check, "check_clean": not problems}
    print(f"  add_child at {size:>6} agents: median {row['median_ms']:.1f} ms, p90 {row['p90_ms']:.1f} ms,"
          f" cpu median {row['cpu_median_ms']:.1f} ms"
          f"  (dgm check of the archive: {t_check:.2f} s, clean: {not problems})", flush=True)
    return row


# -- 3. lineage load --------------------------------------------------------------------
def synthetic_rows(path: Path, n: int, tasks: int = 10) -> None:
    """n agents in a random tree (recent parents preferred), statuses, per-task results."""
    rng = random.Random(n)
    a = Archive.create(path)
    now = time.time()
    agents, evals = [], []
    for i in range(1, n + 1):
        parent = None if i == 1 else format_id(max(1, i - 1 - int(rng.expovariate(1 / 200))))
        status = rng.choices(["admitted", "rejected", "failed", "proposed"], [40, 50, 5, 5])[0]
        scored = status in ("admitted", "rejected")
        score = rng.random() if scored else None
        aid = format_id(i)
        agents.append([aid, i, f"{i:040x}", None, parent, "r1", status, None, "bench", 0, 0,
                       "synthetic agent", score, now, now])
        if scored:
            evals.extend([aid, "suite", 1, f"t{t}", rng.random(), rng.random() < score, 1.0,
                          None, None, "", "r1", now] for t in range(tasks))
    with a._tx():
        a.db.conn.executemany("INSERT INTO agents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", agents)
        a.db.conn.executemany(
            "INSERT INTO evaluations (agent, suite, stage, task, score, resolved, seconds, image, "
            "seed, log, run, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", evals)
    a.close()


def lineage_load(work: Path, n: int) -> dict:
    path = work / f"rows-{n}"
    synthetic_rows(path, n)

    def load_and_query():
        with Archive.open(path, readonly=True) as a:
            lin = Lineage.load(a)
            best = lin.best_path()
        assert len(lin) == n and best
    def resume_view():  # what a resumed run rebuilds for parent selection
        with Archive.open(path, readonly=True) as a:
            pop = Population.from_archive(a)
        assert len(pop.members) == n
    load_and_query()  # warm the page cache once, as a viewer or a resumed run would
    w, c = timed(load_and_query, 5)
    w_pop, c_pop = timed(resume_view, 3)
    with Archive.open(path, readonly=True) as a:
        evals = a.query("SELECT COUNT(*) FROM evaluations")[0][0]
        kept = sum(d["eval_n"] for _, d in Lineage.load(a).g.nodes(data=True))
    assert kept == evals, f"per-agent totals count {kept} results, the table holds {evals}"
    print(f"  open + Lineage.load + best_path at {n:>7} agents ({evals} evaluation rows): "
          f"{1000 * w:.0f} ms (cpu {1000 * c:.0f} ms); Population.from_archive "
          f"{1000 * w_pop:.0f} ms (cpu {1000 * c_pop:.0f} ms)", flush=True)
    shutil.rmtree(path)
    return {"agents": n, "evaluation_rows": evals, "load_query_ms": 1000 * w,
            "load_query_cpu_ms": 1000 * c, "population_ms": 1000 * w_pop,
            "population_cpu_ms": 1000 * c_pop}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run, ~1 min)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--parts", default="mat,add,load",
                    help="comma-separated subset of mat (1), add (2), load (3); add needs mat")
    args = ap.parse_args()
    depths = [1, 10, 100] if args.quick else [1, 10, 100, 1000]
    add_sizes = [200, 400] if args.quick else [1000, 10000]
    load_sizes = [2000, 10000] if args.quick else [10000, 100000]
    probes = 30 if args.quick else 200
    rng = random.Random(0)
    work = Path(tempfile.mkdtemp(prefix="dgm-bench-archive-"))
    info = {"python": platform.python_version(), "cpus": os.cpu_count(),
            "load_avg": os.getloadavg()[0],
            "git": subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()}
    print(f"machine: {info['cpus']} CPUs, load average {info['load_avg']:.1f}, {info['git']}, "
          f"Python {info['python']}", flush=True)
    parts = set(args.parts.split(","))
    mat, add, load, ways = [], [], [], {}
    try:
        if parts & {"mat", "add"}:
            print("1. materialisation against a DGM patch chain", flush=True)
            a, mat = materialisation(work, depths, rng)
            if "add" in parts:
                print("2. add_child latency", flush=True)
                ways = apply_ways(a, work, rng, probes // 4)
                add = [add_latency(a, size, rng, probes) for size in add_sizes]
            a.close()
        if "load" in parts:
            print("3. lineage load + best path", flush=True)
            load = [lineage_load(work, n) for n in load_sizes]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if mat:
        print("\n| scratch | depth | files | ours (ms) | DGM patch chain (ms) | chain / ours "
              "| ours cpu (ms) | chain cpu (ms) | cpu ratio | writing alone (ms) | its cpu (ms) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in mat:
            print(f"| {r['where']} | {r['depth']} | {r['files']} | {r['ours_ms']:.1f} | "
                  f"{r['chain_ms']:.1f} | {r['ratio']:.1f}x | {r['ours_cpu_ms']:.1f} | "
                  f"{r['chain_cpu_ms']:.1f} | {r['cpu_ratio']:.1f}x | {r['floor_ms']:.1f} | "
                  f"{r['floor_cpu_ms']:.1f} |")
    if add:
        print("\n| agents | add_child median (ms) | p90 (ms) | cpu median (ms) |")
        print("|---:|---:|---:|---:|")
        for r in add:
            print(f"| {r['agents']} | {r['median_ms']:.1f} | {r['p90_ms']:.1f} | "
                  f"{r['cpu_median_ms']:.1f} |")
    if load:
        print("\n| agents | evaluation rows | open + load + best path (ms) | cpu (ms) "
              "| Population.from_archive (ms) | cpu (ms) |")
        print("|---:|---:|---:|---:|---:|---:|")
        for r in load:
            print(f"| {r['agents']} | {r['evaluation_rows']} | {r['load_query_ms']:.0f} | "
                  f"{r['load_query_cpu_ms']:.0f} | {r['population_ms']:.0f} | "
                  f"{r['population_cpu_ms']:.0f} |")
    ok = all(r["identical"] for r in mat) and all(r["check_clean"] for r in add)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "materialisation": mat,
                                         "apply": ways, "add_child": add, "lineage_load": load},
                                        indent=1))
    if not ok:
        sys.exit("a correctness check failed (trees differ or dgm check is not clean)")


if __name__ == "__main__":
    main()
