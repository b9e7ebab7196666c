"""Topological sorting of a dependency graph."""

import heapq


class CycleError(ValueError):
    """The graph has a cycle; ``nodes`` are the nodes that could not be ordered."""

    def __init__(self, nodes):
        self.nodes = sorted(nodes)
        super().__init__(f"dependency cycle among: {', '.join(map(str, self.nodes))}")


def toposort(graph):
    """Order the nodes of ``graph`` (node -> iterable of nodes it depends on).

    Dependencies come first. Nodes that appear only as dependencies are
    included. Among nodes that are ready at the same time, the smallest comes
    first, so the result is deterministic.
    """
    deps = {node: set(ds) for node, ds in graph.items()}
    for ds in list(deps.values()):
        for d in ds:
            deps.setdefault(d, set())
    dependents = {node: set() for node in deps}
    for node, ds in deps.items():
        for d in ds:
            dependents[d].add(node)
    remaining = {node: len(ds) for node, ds in deps.items()}
    ready = [node for node, n in remaining.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for user in dependents[node]:
            remaining[user] -= 1
            if remaining[user] == 0:
                heapq.heappush(ready, user)
    return order
