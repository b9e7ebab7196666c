"""The viewer through Starlette's TestClient: JSON API, pages, escaping, headers, live reads."""

from __future__ import annotations

import html
import re

import markupsafe
import pytest
from starlette.testclient import TestClient

from dgm.archive.store import Archive
from dgm.errors import NotAnArchive
from dgm.web import create_app

from web_builders import SEED_FILES, XSS, file_diff


@pytest.fixture(scope="module")
def client(built):
    with TestClient(create_app(built[0])) as c:
        yield c


@pytest.fixture(scope="module")
def ids(built):
    return built[1]


def test_summary_counts_best_and_cost(client, ids):
    s = client.get("/api/summary").json()
    assert s["agents"] == 6
    assert s["by_status"] == {"admitted": 3, "evaluating": 1, "proposed": 0, "rejected": 1,
                              "failed": 1, "duplicate": 0}
    assert s["best"]["id"] == ids["best"] and s["best"]["score"] == pytest.approx(7.5 / 8)
    assert s["rejected_proposals"] == 1
    assert s["cost"]["total_cost"] == pytest.approx(0.0123 + 0.0021)
    run = s["runs"][0]
    assert run["id"] == "run-1" and run["children"] == 5
    bounds = {b["name"]: b for b in run["bounds"]}
    assert set(bounds) == {"model.budget_usd", "children", "wall_seconds"}
    assert bounds["model.budget_usd"]["used"] == pytest.approx(0.0144)
    assert bounds["children"] == {"name": "children", "limit": 10, "used": 5}
    assert 0 < bounds["wall_seconds"]["used"] < 600  # the run is still going


def test_best_score_is_the_mean_over_every_task(client, ids):
    a = client.get(f"/api/agents/{ids['best']}").json()
    # 3 stage-1 tasks (all 1.0) and 5 stage-2 tasks (1,1,1,1,0.5): 7.5 / 8
    assert a["agent"]["score"] == pytest.approx(7.5 / 8)


def test_tree_has_positions_best_path_and_transplants(client, ids):
    t = client.get("/api/tree").json()
    nodes = {n["id"]: n for n in t["nodes"]}
    assert set(nodes) == set(ids.values())
    assert t["best_path"] == [ids["seed"], ids["child"], ids["best"]]
    assert nodes[ids["child"]]["y"] == 1 and nodes[ids["best"]]["y"] == 2
    assert len({(n["x"], n["y"]) for n in nodes.values()}) == 6
    assert {"src": ids["child"], "dst": ids["xss"], "kind": "transplant"} in t["extra_edges"]
    assert t["score_range"] == [0.0, pytest.approx(7.5 / 8)]
    assert nodes[ids["xss"]]["summary"] == XSS  # JSON carries text; pages must escape it
    assert t["version"] == client.get("/api/summary").json()["version"]


def test_progress_series(client, ids):
    pts = client.get("/api/progress").json()["points"]
    assert [p["i"] for p in pts] == list(range(6))
    assert [p["id"] for p in pts] == sorted(ids.values())
    best = [p["best"] for p in pts]
    assert best == sorted(best), "best so far never decreases"
    assert best[-1] == pytest.approx(7.5 / 8)
    admitted = [p["score"] for p in pts if p["status"] == "admitted"]
    assert pts[-1]["mean"] == pytest.approx(sum(admitted) / len(admitted))
    assert [p["id"] for p in pts if p["on_best"]] == [ids["seed"], ids["child"], ids["best"]]


def test_agent_detail(client, ids):
    a = client.get(f"/api/agents/{ids['child']}").json()
    stages = {(g["suite"], g["stage"]): g for g in a["stages"]}
    assert stages[("toy", 1)]["n"] == 3 and stages[("toy", 1)]["resolved"] == 2
    assert stages[("toy", 2)]["n"] == 5 and stages[("toy", 2)]["mean"] == pytest.approx(0.7)
    (p,) = a["proposals"]
    assert (p["model"], p["prompt_tokens"], p["completion_tokens"]) == ("gpt-4o-mini", 1200, 340)
    assert p["cost"] == pytest.approx(0.0123) and "mixed-case" in p["diagnosis"]
    assert a["transcripts"][0]["kind"] == "proposer"
    assert a["artifacts"] == {"toy/1/failures": "s1-2: expected 'abc', got 'ABC'"}
    assert a["cost"]["total_cost"] == pytest.approx(0.0021)  # billed to it; its proposal: the seed's
    assert a["cost"]["proposals"]["cost"] == pytest.approx(0.0123)
    assert [c["id"] for c in a["children"]] == [ids["best"], ids["failed"]]
    assert [l["id"] for l in a["lineage"]] == [ids["seed"]]
    deep = client.get(f"/api/agents/{ids['evaluating']}").json()
    assert [l["id"] for l in deep["lineage"]] == [ids["seed"], ids["child"], ids["best"]]
    xss = client.get(f"/api/agents/{ids['xss']}").json()
    assert xss["sources"] == [{"id": ids["child"], "kind": "transplant"}]
    assert f'transplant from</dt><dd><a class="aid" href="/agent/{ids["child"]}">' in \
        client.get(f"/agent/{ids['xss']}").text
    best = client.get(f"/api/agents/{ids['best']}").json()
    assert best["rejected_proposals"][0]["reason"].startswith("diff does not apply")


def test_ids_resolve_by_number(client, ids):
    assert client.get("/api/agents/2").json()["agent"]["id"] == ids["child"]
    r = client.get("/agent/2", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == f"/agent/{ids['child']}"


def test_agents_list_and_bad_parameters(client, ids):
    r = client.get("/api/agents?status=admitted").json()
    assert r["total"] == 3 and {a["id"] for a in r["agents"]} == {ids["seed"], ids["child"], ids["best"]}
    assert len(client.get("/api/agents?limit=2&offset=1").json()["agents"]) == 2
    for url, word in (("/api/agents?status=bogus", "unknown status"),
                      ("/api/agents?limit=lots", "must be an integer"),
                      ("/api/events?limit=0", "between")):
        r = client.get(url)
        assert r.status_code == 400 and word in r.json()["error"]
        assert "\n" not in r.json()["error"]


def test_unknown_ids_are_one_line_404s(client):
    r = client.get("/api/agents/999999")
    assert r.status_code == 404
    assert r.json() == {"error": r.json()["error"]} and "unknown agent '999999'" in r.json()["error"]
    assert "\n" not in r.json()["error"]
    for url in ("/api/agents/999999/diff", "/api/agents/2/diff?against=424242",
                "/api/agents/2/files/nope.py", "/api/nothing-here"):
        r = client.get(url)
        assert r.status_code == 404 and r.headers["content-type"] == "application/json", url
    page = client.get("/agent/999999")
    assert page.status_code == 404 and "unknown agent" in html.unescape(page.text)
    assert client.get("/agent/2/code?path=nope.py").status_code == 404
    assert client.get("/no/such/page").status_code == 404


def test_diff_and_files(client, ids):
    d = client.get(f"/api/agents/{ids['child']}/diff").json()
    assert d["against"] == ids["seed"] and "+TEMPERATURE = 0.2" in d["diff"]
    d = client.get(f"/api/agents/{ids['best']}/diff?against={ids['seed']}").json()
    assert "+TEMPERATURE = 0.2" in d["diff"] and "+def helper(x):" in d["diff"]
    seed_diff = client.get(f"/api/agents/{ids['seed']}/diff").json()
    assert seed_diff["against"] is None and "+++ b/agent.toml" in seed_diff["diff"]
    files = client.get(f"/api/agents/{ids['best']}/files").json()["files"]
    assert files == sorted(list(SEED_FILES) + ["tools/helper.py"])
    f = client.get(f"/api/agents/{ids['seed']}/files/tools/edit.py").json()
    assert f["text"] == SEED_FILES["tools/edit.py"] and f["binary"] is False
    raw = client.get(f"/agent/{ids['seed']}/raw/solve.py")
    assert raw.text == SEED_FILES["solve.py"]
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["content-security-policy"].startswith("sandbox")


def test_events(client, ids):
    ev = client.get("/api/events").json()["events"]
    assert [(e["kind"], e["agent"], e["data"]) for e in ev] == [("admitted", ids["child"], {"score": 0.69})]
    assert client.get(f"/api/events?after={ev[-1]['seq']}").json()["events"] == []


def pages(ids):
    return ["/", "/tree", f"/agent/{ids['xss']}", f"/agent/{ids['child']}",
            f"/agent/{ids['xss']}/code", f"/agent/{ids['xss']}/code?path=solve.py", "/agent/999999"]


def test_every_page_has_a_strict_csp_and_no_inline_script_or_style(client, ids):
    assert set(client.get("/api/").json()["endpoints"]) >= {"/api/version", "/api/tree"}
    for url in pages(ids) + ["/api/summary", "/static/tree.js"]:
        r = client.get(url)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp, url
        assert "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        if r.headers["content-type"].startswith("text/html"):
            for tag in re.findall(r"<script\b[^>]*>", r.text):
                assert re.search(r'\bsrc="/static/[\w.]+\.js"', tag), (url, tag)
            assert not re.search(r"<script>\s*\S", r.text), url
            attrs = re.findall(r"<[a-zA-Z][^<>]*?\s(style|on[a-z]+)\s*=", r.text)
            assert attrs == [], (url, attrs)  # no inline style or event handler in any tag


def test_agent_text_is_escaped_everywhere(client, ids):
    body = client.get(f"/agent/{ids['xss']}").text
    assert "<script>window.__pwned" not in body and "<img src=x" not in body
    # as text: summary, diagnosis, transcript and the three task logs
    assert body.count(str(markupsafe.escape(XSS))) == 6
    assert "&lt;/pre&gt;&lt;script&gt;window.__pwned=3" in body  # transcript
    assert "&lt;/pre&gt;" in body                          # task log
    err = client.get("/agent/%3Cscript%3Ealert(1)%3C%2Fscript%3E")  # the id is echoed in the 404
    assert err.status_code == 404
    assert "<script>alert" not in err.text and "&lt;script&gt;alert(1)" in err.text


def test_live_reads_while_a_writer_holds_the_archive(writable):
    """A loop writing the archive is no error: the viewer reads it live (WAL)."""
    path, ids = writable
    with Archive.open(path) as writer, TestClient(create_app(path)) as c:
        before = c.get("/api/summary").json()
        tree_before = c.get("/api/tree").json()
        base = SEED_FILES["solve.py"]
        r = writer.add_child(ids["seed"], file_diff("solve.py", base, base + "# live\n"),
                             summary="added while serving", proposer="mutation")
        after = c.get("/api/summary").json()
        assert after["agents"] == before["agents"] + 1 and after["version"] != before["version"]
        assert c.get("/api/version").json() == {"version": after["version"]}
        tree_after = c.get("/api/tree").json()
        assert len(tree_after["nodes"]) == len(tree_before["nodes"]) + 1
        assert c.get(f"/api/agents/{r.agent_id}").json()["agent"]["status"] == "proposed"
        state = c.get(f"/api/agents/{r.agent_id}/state").json()
        writer.set_status(r.agent_id, "evaluating")
        assert c.get(f"/api/agents/{r.agent_id}/state").json()["version"] != state["version"]
        assert "added while serving" in c.get(f"/agent/{r.agent_id}").text


def test_not_an_archive(tmp_path):
    with pytest.raises(NotAnArchive):
        create_app(tmp_path / "nothing")
