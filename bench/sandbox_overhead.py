"""Per-call overhead of each way to run a command: bare subprocess, bwrap, Docker cold, Docker warm pool.

Each call runs ``true`` (so the time is all overhead), once without mounts
and once with the engine's usual layout (a read-only /agent and a writable,
quota'd /scratch holding a few files, copied in and mirrored back). Prints
a markdown table of the median (and 10th/90th percentiles) over --n calls.
The warm pool is given time to refill between calls, as it has during real
evaluations, where each call runs for seconds; the refill is not timed.

    .venv/bin/python bench/sandbox_overhead.py [--n 25] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dgm.sandbox import BwrapSandbox, DockerSandbox, Limits, LocalSandbox, Mount, docker_available  # noqa: E402
from dgm.sandbox.select import bwrap_available  # noqa: E402

TARGET_MS = 100.0


def layout(root: Path) -> list[Mount]:
    agent, scratch = root / "agent", root / "scratch"
    agent.mkdir(exist_ok=True)
    scratch.mkdir(exist_ok=True)
    (agent / "agent.py").write_text("print('hi')\n" * 50)
    for i in range(10):
        (scratch / f"f{i}.txt").write_text("x" * 4096)
    return [Mount(agent, "/agent"), Mount(scratch, "/scratch", writable=True)]


def measure(call, n: int, between=None) -> list[float]:
    call()  # warm-up: caches, first image lookup
    out = []
    for _ in range(n):
        if between:
            between()
        t = time.perf_counter()
        call()
        out.append((time.perf_counter() - t) * 1000)
    return out


def row(name: str, bare: list[float], mounted: list[float] | None) -> dict:
    def stats(xs):
        if not xs:
            return None
        q = statistics.quantiles(xs, n=10)
        return {"median": statistics.median(xs), "p10": q[0], "p90": q[-1]}
    return {"backend": name, "no_mounts": stats(bare), "with_mounts": stats(mounted)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=25, help="calls per measurement (>= 20)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    n = max(20, args.n)
    rows = []
    lim = Limits(seconds=60)
    with tempfile.TemporaryDirectory(prefix="dgm-bench-") as tmp:
        mounts = layout(Path(tmp))
        rows.append(row("bare subprocess", measure(lambda: subprocess.run(["true"], check=True), n), None))
        local = LocalSandbox()
        rows.append(row("unsafe (LocalSandbox)", measure(lambda: local.run("", ["true"], limits=lim), n),
                        measure(lambda: local.run("", ["true"], mounts=mounts, limits=lim), n)))
        ok, why = bwrap_available()
        if ok:
            with BwrapSandbox() as sb:
                def bw(m=()):
                    assert sb.run("", ["true"], mounts=m, limits=lim).ok
                rows.append(row("bwrap", measure(bw, n), measure(lambda: bw(mounts), n)))
        else:
            print(f"bwrap skipped: {why}", file=sys.stderr)
        ok, why = docker_available()
        if ok:
            from dgm.sandbox.image import ensure_image

            image = ensure_image(echo=lambda s: print(s, file=sys.stderr))
            with DockerSandbox(image) as sb:
                def cold(m=()):
                    assert sb.run(image, ["true"], mounts=m, limits=lim).ok
                rows.append(row("docker cold run", measure(cold, n), measure(lambda: cold(mounts), n)))
            with DockerSandbox(image, pool_size=2) as sb:
                def warm(m=()):
                    r = sb.run(image, ["true"], mounts=m, limits=lim)
                    assert r.ok, r

                def refill():
                    sb.settle()

                sb.prewarm(image, limits=lim)
                bare = measure(warm, n, refill)
                sb.prewarm(image, mounts=mounts, limits=lim)
                rows.append(row("docker warm pool (runner)", bare, measure(lambda: warm(mounts), n, refill)))
        else:
            print(f"docker skipped: {why}", file=sys.stderr)

    def cell(s):
        return "n/a" if s is None else f"{s['median']:.1f} ({s['p10']:.1f}-{s['p90']:.1f})"

    print(f"Per-call overhead of `true`, milliseconds: median (p10-p90) of {n} calls\n")
    print("| backend | no mounts | /agent ro + /scratch rw |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r['backend']} | {cell(r['no_mounts'])} | {cell(r['with_mounts'])} |")
    warm = next((r for r in rows if r["backend"].startswith("docker warm")), None)
    if warm:
        worst = max(warm["no_mounts"]["median"], warm["with_mounts"]["median"])
        verdict = "met" if worst <= TARGET_MS else "MISSED"
        print(f"\nwarm-pool target <= {TARGET_MS:.0f} ms per call: {verdict} (worst median {worst:.1f} ms)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"n": n, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
