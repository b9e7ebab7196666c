"""The viewer in Debian's Chromium (Playwright): tree, agent page, escaping, live updates, scale.

Screenshots go to test-artifacts/web/.
"""

from __future__ import annotations

import time

import pytest

from dgm.archive.store import Archive

from web_live import LiveServer
from web_builders import SEED_FILES, XSS, results, file_diff

pytestmark = pytest.mark.browser


def open_tree(page, url: str, n: int, timeout: float = 30_000) -> None:
    page.goto(url + "/tree")
    page.wait_for_selector(f"#tree[data-rendered='{n}']", state="attached", timeout=timeout)


def test_tree_click_node_shows_diff_and_scores(live, built, page, shot):
    ids = built[1]
    open_tree(page, live.url, 6)
    assert page.locator("#tree a.node").count() == 6
    assert page.locator("#tree .best-path").get_attribute("d").count("M") == 2  # seed→child→best
    assert page.locator(f"#tree a.node.on-best[data-id='{ids['best']}']").count() == 1
    assert "best 000003 (0.938)" in page.locator("#tree-info").inner_text()
    page.hover(f"#tree a.node[data-id='{ids['child']}'] circle")
    assert "Lower the temperature" in page.locator("#tooltip").inner_text()
    shot(page, "tree")
    page.click(f"#tree a.node[data-id='{ids['child']}'] circle")
    page.wait_for_url(f"**/agent/{ids['child']}")
    diff = page.locator("#diff-text")
    assert "+TEMPERATURE = 0.2" in page.locator("#diff-text .add").all_inner_texts()[0]
    assert "-TEMPERATURE = 0.7" in diff.inner_text()
    rows = page.locator("#stage-table tbody tr").all_inner_texts()
    assert len(rows) == 2 and "0.667" in rows[0] and "0.700" in rows[1]
    assert page.locator(".task-table tbody tr").count() == 8
    shot(page, "agent")
    assert page.problems == []


def test_script_markup_in_agent_text_never_runs(live, built, page, shot):
    ids = built[1]
    page.goto(f"{live.url}/agent/{ids['xss']}")
    page.click("#transcripts details summary")
    page.click(".task-table details summary >> nth=0")
    assert page.locator("#summary").inner_text() == XSS
    assert page.locator(".diagnosis").inner_text() == XSS
    assert "</pre><script>window.__pwned=3</script>" in page.locator("pre.transcript").inner_text()
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"
    shot(page, "xss-agent")
    open_tree(page, live.url, 6)
    page.hover(f"#tree a.node[data-id='{ids['xss']}'] circle")
    assert "<script>window.__pwned=1</script>" in page.locator("#tooltip").inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    # Defence in depth: even markup injected past escaping is blocked by the CSP.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', "
                  "'<img src=\"/nope.png\" onerror=\"window.__pwned=9\">')")
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_status_filter_and_colour(live, built, page):
    ids = built[1]
    open_tree(page, live.url, 6)
    rejected = page.locator(f"#tree a.node[data-id='{ids['xss']}']")
    assert rejected.is_visible()
    page.uncheck("#status-filter input[value='rejected']")
    assert not rejected.is_visible()
    assert page.locator(f"#tree a.node[data-id='{ids['best']}']").is_visible()
    page.check("#status-filter input[value='rejected']")
    assert rejected.is_visible()
    page.select_option("#colour-by", "status")
    fill = page.locator(f"#tree a.node[data-id='{ids['best']}'] circle").get_attribute("fill")
    assert fill == "#2e7d32"


def test_overview_chart_links_to_agents(live, built, page, shot):
    ids = built[1]
    page.goto(live.url + "/")
    page.wait_for_selector("#progress[data-rendered='6']", state="attached")
    assert page.locator("#progress a.pt").count() == 6
    assert page.locator("#progress a.pt.on-best").count() == 3
    assert page.locator("#progress path.lineage-line").get_attribute("d").count("L") == 2
    assert "0.0144 / 0.05" in page.locator("#overview-runs").inner_text()
    shot(page, "overview")
    page.click(f"#progress a.pt[data-id='{ids['best']}'] circle")
    page.wait_for_url(f"**/agent/{ids['best']}")
    page.click("text=Code")
    page.click("text=tools/helper.py")
    assert "def helper(x):" in page.locator("#code-view").inner_text()
    shot(page, "code")
    assert page.problems == []


def test_pages_follow_a_running_loop(writable, page):
    path, ids = writable
    with Archive.open(path) as writer:
        server = LiveServer(path, poll_seconds=0.3)
        try:
            open_tree(page, server.url, 6)
            base = SEED_FILES["solve.py"]
            writer.add_child(ids["best"], file_diff("solve.py", base, base + "# live\n"),
                             summary="added while watching", proposer="mutation")
            page.wait_for_selector("#tree[data-rendered='7']", state="attached", timeout=10_000)
            assert page.locator("#tree a.node").count() == 7

            page.goto(f"{server.url}/agent/{ids['evaluating']}")
            assert page.locator("#agent-head .pill").inner_text() == "evaluating"
            writer.record_evaluation(ids["evaluating"], "toy", 2, results("s2", [1.0] * 5))
            writer.set_status(ids["evaluating"], "admitted")
            page.wait_for_selector("#agent-head .pill.st-admitted", timeout=10_000)
            assert page.locator("#stage-table tbody tr").count() == 2
        finally:
            server.stop()


def test_tree_with_1500_agents(big, page, shot):
    server = LiveServer(big)
    try:
        t0 = time.monotonic()
        open_tree(page, server.url, 1506, timeout=60_000)
        loaded = time.monotonic() - t0
        assert page.locator("#tree a.node").count() == 1506
        shot(page, "tree-1506", full_page=False)
        box = page.locator("#tree").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(6):
            page.mouse.wheel(0, -400)
            page.wait_for_timeout(50)
        page.wait_for_selector("#tree.show-labels", state="attached")  # re-placed after the wheel rests
        page.click("#zoom-best")
        page.wait_for_selector("#tree a.node.found.on-best", state="attached")
        shot(page, "tree-1506-zoomed", full_page=False)
        page.goto(server.url + "/")
        page.wait_for_selector("#progress[data-rendered='1506']", state="attached", timeout=60_000)
        print(f"1506-agent tree page rendered in {loaded:.2f} s")
        assert page.problems == []
    finally:
        server.stop()
