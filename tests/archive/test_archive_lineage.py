"""dgm/archive/lineage.py: networkx views built from a real archive, queries and exports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from dgm.errors import DgmError
from dgm.archive.lineage import Lineage

from archive_helpers import TaskResult


def nd(path: str, text: str) -> str:
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1 @@\n+{text}\n")


@pytest.fixture
def family(seeded):
    """seed 1 -> 2 -> 4 -> 6, 1 -> 3 -> 5, 2 -> 7; 8 is a second root.

    scores (admitted unless noted): 2: .5, 3: .6, 4: .8, 5: .9 (rejected), 6: .7, 7: -, 8: .95 (failed)
    """
    a, s = seeded
    def child(parent, tag):
        return a.add_child(parent, nd(f"{tag}.py", tag), summary=f"add {tag}", proposer="t").agent_id
    c2 = child(s, "b")
    c3 = child(s, "c")
    c4 = child(c2, "d")
    c5 = child(c3, "e")
    c6 = child(c4, "f")
    child(c2, "g")  # 7
    c8 = a.add_seed(a.path.parent / "seed", summary="second root")
    a.add_child(c3, nd("h.py", "h"), summary="transplant", proposer="t", transplant_from=c4,
                inspirations=[c6])  # 9
    plan = {c2: (0.5, "admitted", [1, 0]), c3: (0.6, "admitted", [1, 1, 0, 0, 1]),
            c4: (0.8, "admitted", [1]), c5: (0.9, "rejected", [1, 1]),
            c6: (0.7, "admitted", [0, 1, 1]), c8: (0.95, "failed", [1])}
    for agent, (score, status, passes) in plan.items():
        a.record_evaluation(agent, "toy", 1, [TaskResult(f"t{i}", score, bool(p))
                                              for i, p in enumerate(passes)])
        a.set_status(agent, "evaluating")
        a.set_status(agent, status)
    return a, Lineage.load(a)


def test_structure(family):
    a, lin = family
    assert len(lin) == 9
    assert sorted(lin.roots()) == ["000001", "000008"]
    assert lin.path_to_root("000006") == ["000006", "000004", "000002", "000001"]
    assert lin.ancestors("000006") == ["000004", "000002", "000001"] == a.ancestors("000006")
    assert lin.descendants("000002") == {"000004", "000006", "000007"}
    assert lin.descendants("000008") == set()
    assert lin.children("000002") == ["000004", "000007"] == a.children("000002")
    assert lin.children("000001", statuses=["admitted"]) == ["000002", "000003"]
    assert lin.parent("000001") is None and lin.parent("000005") == "000003"
    for n in lin.g:
        assert lin.depth(n) == a.agent(n).depth == lin.node(n)["depth"]


def test_children_counts(family):
    _, lin = family
    counts = lin.children_counts()
    assert counts["000001"] == 2 and counts["000002"] == 2 and counts["000003"] == 2
    assert counts["000006"] == 0 and sum(counts.values()) == 7
    admitted = lin.children_counts(statuses=["admitted"])
    assert admitted["000003"] == 0 and admitted["000002"] == 1


def test_best_and_best_path(family):
    _, lin = family
    # 5 (.9, rejected) and 8 (.95, failed) are not admitted
    assert lin.best() == "000004"
    assert lin.best_path() == ["000001", "000002", "000004"]
    assert lin.best(statuses=None) == "000008"
    assert lin.best(statuses=["rejected"]) == "000005"
    assert lin.best_path(statuses=["rejected"]) == ["000001", "000003", "000005"]
    assert lin.best(statuses=["evaluating"]) is None and lin.best_path(["evaluating"]) == []


def test_best_breaks_ties_by_earliest(seeded):
    a, s = seeded
    kids = [a.add_child(s, nd(f"k{i}.py", str(i)), summary="", proposer="t").agent_id
            for i in range(3)]
    for k in reversed(kids):
        a.record_evaluation(k, "toy", 1, [TaskResult("t", 0.5, True)])
        a.set_status(k, "evaluating")
        a.set_status(k, "admitted")
    assert Lineage.load(a).best() == kids[0]


def test_clades_pool_descendants(family):
    _, lin = family
    c2 = lin.clade("000002")  # 2, 4, 6, 7
    assert c2["members"] == 4 and c2["tasks"] == 2 + 1 + 3
    assert c2["passes"] == 1 + 1 + 2 and c2["fails"] == 2
    assert c2["mean"] == pytest.approx((0.5 * 2 + 0.8 + 0.7 * 3) / 6)
    assert lin.clade("000007")["mean"] is None
    every = lin.clades()
    assert set(every) == set(lin.g)
    for n in lin.g:  # the one-pass bottom-up version agrees with the per-node definition
        one = lin.clade(n)
        assert every[n].keys() == one.keys()
        for k, v in one.items():
            assert every[n][k] == (None if v is None else pytest.approx(v)), (n, k)


def test_extra_edges(family):
    _, lin = family
    assert sorted((e["src"], e["kind"]) for e in lin.g.graph["extra_edges"]) == \
        [("000004", "transplant"), ("000006", "inspiration")]
    assert lin.parent("000009") == "000003"  # the tree keeps only lineage parents


def test_json_export_round_trips(family, tmp_path):
    _, lin = family
    out = tmp_path / "g.json"
    text = lin.export("json", out)
    assert out.read_text() == text
    g = nx.node_link_graph(json.loads(text), edges="links")
    assert set(g.nodes) == set(lin.g.nodes) and set(g.edges) == set(lin.g.edges)
    assert g.nodes["000004"]["score"] == pytest.approx(0.8)
    assert g.nodes["000005"]["status"] == "rejected"
    assert len(g.graph["extra_edges"]) == 2


def test_graphml_export_parses(family):
    _, lin = family
    g = nx.parse_graphml(lin.export("graphml"))
    assert set(g.nodes) == set(lin.g.nodes) and set(g.edges) == set(lin.g.edges)
    assert g.nodes["000006"]["status"] == "admitted"
    assert float(g.nodes["000006"]["score"]) == pytest.approx(0.7)
    assert "score" not in g.nodes["000007"]  # None attributes are left out, not "None"
    ET.fromstring(lin.to_graphml())  # well-formed XML


def test_dot_export(family):
    _, lin = family
    dot = lin.export("dot")
    assert dot.startswith("digraph dgm {") and dot.rstrip().endswith("}")
    assert '"000002" -> "000004";' in dot and '"000003" -> "000005";' in dot
    assert dot.count(" -> ") == 7 + 2
    assert '"000004" -> "000009" [style=dashed, label="transplant"]' in dot
    bold = {line.split('"')[1] for line in dot.splitlines() if "style=bold" in line}
    assert bold == {"000001", "000002", "000004"}
    assert 'label="000007\\nproposed -"' in dot


def test_unknown_export_format(family):
    _, lin = family
    with pytest.raises(DgmError, match="unknown export format 'png'"):
        lin.export("png")


def test_empty_archive(archive):
    lin = Lineage.load(archive)
    assert len(lin) == 0 and lin.best() is None and lin.best_path() == [] and lin.clades() == {}
    assert json.loads(lin.to_json())["nodes"] == []


def test_load_builds_the_same_graph_as_networkx_public_api(family):
    """Lineage.load fills networkx's dicts directly (for speed): it must equal the slow way."""
    a, lin = family
    ref = nx.DiGraph()
    for agent in a.agents():
        ref.add_node(agent.id)
    for agent in a.agents():
        if agent.parent:
            ref.add_edge(agent.parent, agent.id)
    assert nx.utils.graphs_equal(nx.DiGraph(lin.g.edges), nx.DiGraph(ref.edges))
    assert set(lin.g.nodes) == set(ref.nodes)
    assert all(lin.g.in_degree(n) == ref.in_degree(n) and lin.g.out_degree(n) == ref.out_degree(n)
               for n in ref)
    # views, copies and mutation behave as on any DiGraph
    h = lin.g.copy()
    h.add_edge("000008", "000009")
    assert lin.g.number_of_edges() == 7 and h.number_of_edges() == 8
    assert list(nx.topological_sort(lin.g))[0] in {"000001", "000008"}
    assert lin.g.nodes["000004"]["eval_n"] == 1 and lin.g.edges["000002", "000004"] == {}
    assert lin.g._succ is lin.g._adj and lin.g.pred["000004"] == {"000002": {}}
