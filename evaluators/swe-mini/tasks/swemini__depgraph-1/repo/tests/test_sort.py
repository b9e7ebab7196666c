from depgraph import toposort


def test_chain():
    assert toposort({"c": ["b"], "b": ["a"], "a": []}) == ["a", "b", "c"]


def test_diamond():
    graph = {"app": ["db", "cache"], "db": ["config"], "cache": ["config"]}
    assert toposort(graph) == ["config", "cache", "db", "app"]


def test_dependencies_only_mentioned_are_included():
    assert toposort({"b": ["a"]}) == ["a", "b"]


def test_independent_nodes_are_sorted():
    assert toposort({"z": [], "m": [], "a": []}) == ["a", "m", "z"]


def test_empty_graph():
    assert toposort({}) == []
