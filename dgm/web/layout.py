"""Tree layout for thousands of agents: leaves side by side, parents centred.

Each leaf takes the next column in depth-first order (children in creation
order); a parent sits midway between its first and last child; y is the depth.
Width is the number of leaves, which keeps every node distinct and edges
non-crossing. The walk is iterative, so a lineage thousands deep is fine.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable


def tree_layout(nodes: Iterable[tuple[str, str | None]], tree_gap: float = 1.0
                ) -> dict[str, tuple[float, int]]:
    """``(id, parent)`` pairs in creation order -> ``{id: (x, depth)}``.

    A node whose parent is unknown is laid out as a root; roots are placed left
    to right with ``tree_gap`` extra columns between their trees.
    """
    order = list(nodes)
    known = {n for n, _ in order}
    children: dict[str, list[str]] = defaultdict(list)
    roots = []
    for node, parent in order:
        if parent is None or parent not in known or parent == node:
            roots.append(node)
        else:
            children[parent].append(node)
    pos: dict[str, tuple[float, int]] = {}
    next_x = 0.0
    for root in roots:
        stack: list[tuple[str, int, bool]] = [(root, 0, False)]
        while stack:
            node, depth, expanded = stack.pop()
            kids = children.get(node, ())
            if not kids:
                pos[node] = (next_x, depth)
                next_x += 1
            elif expanded:
                pos[node] = ((pos[kids[0]][0] + pos[kids[-1]][0]) / 2, depth)
            else:
                stack.append((node, depth, True))
                stack.extend((k, depth + 1, False) for k in reversed(kids))
        next_x += tree_gap
    return pos
