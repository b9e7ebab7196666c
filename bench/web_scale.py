"""How the viewer and the plots scale with the archive: prints one row per size.

    .venv/bin/python bench/web_scale.py [--sizes 1000 5000 10000] [--browser]

Per size: building the tree model (Lineage + layout), the /api/tree payload,
GET /api/tree over real HTTP (cold, then cached), dgm plot, and with
--browser the time until Chromium has drawn every node, the frame after one
wheel step, and re-placing every node once the wheel rests.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))

from dgm.archive.store import Archive  # noqa: E402
from dgm.web.plots import plot_all  # noqa: E402
from dgm.web import data  # noqa: E402
from dgm.web.layout import tree_layout  # noqa: E402
from web_builders import add_synthetic, build_archive  # noqa: E402
from web_live import LiveServer  # noqa: E402


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def browser_times(url: str, n: int) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = b.new_page(viewport={"width": 1400, "height": 900})
        t = time.perf_counter()
        page.goto(url + "/tree")
        page.wait_for_selector(f"#tree[data-rendered='{n}']", state="attached", timeout=120_000)
        render = time.perf_counter() - t
        zoom = page.evaluate("""() => new Promise(done => {
            const svg = document.getElementById('tree'), r = svg.getBoundingClientRect();
            const t = performance.now();
            svg.dispatchEvent(new WheelEvent('wheel', {deltaY: -300, clientX: r.left + r.width / 2,
                                                       clientY: r.top + r.height / 2, bubbles: true}));
            requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t)));
        })""")
        page.wait_for_timeout(400)  # the wheel rests: nodes are re-placed at the new zoom
        replace = float(page.locator("#tree").get_attribute("data-place-ms"))
        b.close()
    return render, zoom / 1000, replace / 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    ap.add_argument("--browser", action="store_true", help="also time Chromium (needs /usr/bin/chromium)")
    args = ap.parse_args()
    cols = ["agents", "tree model s", "layout s", "payload KB", "GET cold s", "GET cached s", "plot s"]
    if args.browser:
        cols += ["page drawn s", "zoom frame s", "re-place s"]
    print(" | ".join(cols))
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "arc"
            build_archive(path)
            with Archive.open(path) as a:
                add_synthetic(a, n - a.count())
            with Archive.open(path, readonly=True) as a:
                t_tree, model = timed(lambda: data.tree(a))
                pairs = [(x["id"], x["parent"]) for x in model["nodes"]]
                t_layout, _ = timed(lambda: tree_layout(pairs))
                t_plot, _ = timed(lambda: plot_all(a, Path(tmp) / "plots"), repeat=1)
            server = LiveServer(path)
            try:
                with httpx.Client(base_url=server.url, timeout=120) as http:
                    t = time.perf_counter()
                    body = http.get("/api/tree").content
                    cold = time.perf_counter() - t
                    cached, _ = timed(lambda: http.get("/api/tree"))
                row = [n, t_tree, t_layout, len(body) / 1024, cold, cached, t_plot]
                if args.browser:
                    row += list(browser_times(server.url, n))
            finally:
                server.stop()
        print(" | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row), flush=True)


if __name__ == "__main__":
    main()
