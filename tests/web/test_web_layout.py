"""The tree layout: distinct positions, parents over their children, any depth."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dgm.web.layout import tree_layout


def check_tidy(pairs, pos):
    kids: dict[str, list[str]] = {}
    for node, parent in pairs:
        if parent is not None and parent in pos:
            kids.setdefault(parent, []).append(node)
    assert set(pos) == {n for n, _ in pairs}
    assert len(set(pos.values())) == len(pos), "two agents share a position"
    for parent, children in kids.items():
        xs = [pos[c][0] for c in children]
        assert pos[parent][0] == (xs[0] + xs[-1]) / 2
        assert all(pos[c][1] == pos[parent][1] + 1 for c in children)
        assert xs == sorted(xs), "children keep their creation order left to right"


def test_small_tree_positions():
    pairs = [("1", None), ("2", "1"), ("3", "2"), ("4", "1"), ("5", "2")]
    pos = tree_layout(pairs)
    assert pos == {"3": (0.0, 2), "5": (1.0, 2), "2": (0.5, 1), "4": (2.0, 1), "1": (1.25, 0)}
    check_tidy(pairs, pos)


def test_roots_side_by_side_and_orphans_become_roots():
    pairs = [("a", None), ("b", "a"), ("c", None), ("d", "missing")]
    pos = tree_layout(pairs, tree_gap=2)
    assert pos["a"] == (0.0, 0) and pos["b"] == (0.0, 1)
    assert pos["c"] == (3.0, 0)          # one column for a's tree, then a gap of two
    assert pos["d"] == (6.0, 0)


def test_deep_chain_has_no_recursion_limit():
    n = 20_000
    pairs = [("0", None)] + [(str(i), str(i - 1)) for i in range(1, n)]
    pos = tree_layout(pairs)
    assert pos[str(n - 1)] == (0.0, n - 1)
    assert {x for x, _ in pos.values()} == {0.0}


@st.composite
def trees(draw):
    n = draw(st.integers(1, 60))
    pairs = [("n0", None)]
    for i in range(1, n):
        parent = draw(st.one_of(st.none(), st.integers(0, i - 1)))
        pairs.append((f"n{i}", None if parent is None else f"n{parent}"))
    return pairs


@settings(max_examples=150, deadline=None)
@given(trees())
def test_random_trees_are_tidy(pairs):
    check_tidy(pairs, tree_layout(pairs))
