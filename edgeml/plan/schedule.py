"""Op orders: the model's own, and a memory-aware one for branchy graphs.

The memory-aware scheduler minimises the peak of live activation bytes. Small graphs are solved
exactly by dynamic programming over the sets of ops already run (Serenity-style: states are the
"frontiers" reachable, keyed by the set of executed ops); larger ones use a greedy rule that runs
next the ready op whose execution frees the most / allocates the least, with a short lookahead.
"""

from __future__ import annotations

from collections.abc import Sequence

from edgeml.ir.graph import Graph, TensorKind

EXACT_LIMIT = 22  # ops; beyond this the number of executed-op sets grows too fast


def model_order(graph: Graph) -> list[int]:
    return list(range(len(graph.nodes)))


def _dependencies(graph: Graph) -> tuple[list[set[int]], dict[int, int], dict[int, set[int]]]:
    producer = {t: n for n, node in enumerate(graph.nodes) for t in node.outputs}
    preds = [{producer[t] for t in node.inputs if t in producer} for node in graph.nodes]
    consumers: dict[int, set[int]] = {}
    for n, node in enumerate(graph.nodes):
        for t in node.inputs:
            if t >= 0:
                consumers.setdefault(t, set()).add(n)
    return preds, producer, consumers


def _activation_sizes(graph: Graph) -> dict[int, int]:
    return {i: t.nbytes for i, t in enumerate(graph.tensors) if t.kind is TensorKind.ACTIVATION}


def _peak_of(graph: Graph, order: Sequence[int]) -> int:
    sizes = _activation_sizes(graph)
    _, _, consumers = _dependencies(graph)
    remaining = {t: len(c) for t, c in consumers.items()}
    outputs = set(graph.outputs)
    live = {t for t in graph.inputs if t in sizes}
    peak = sum(sizes[t] for t in live)
    for n in order:
        node = graph.nodes[n]
        live.update(t for t in node.outputs if t in sizes)
        peak = max(peak, sum(sizes[t] for t in live))
        for t in node.inputs:
            if t in remaining:
                remaining[t] -= 1
                if remaining[t] == 0 and t not in outputs:
                    live.discard(t)
    return peak


def memory_aware_order(graph: Graph) -> list[int]:
    """An order with the smallest activation peak found; never worse than the model's own."""
    own = model_order(graph)
    candidate = _exact_order(graph) if len(graph.nodes) <= EXACT_LIMIT else _greedy_order(graph)
    return candidate if _peak_of(graph, candidate) < _peak_of(graph, own) else own


BEAM = 4096  # executed-op sets kept per level; the search is exact while no level exceeds it


def _exact_order(graph: Graph) -> list[int]:
    """Dynamic programming over sets of executed ops: the order with the smallest peak."""
    preds, _, consumers = _dependencies(graph)
    sizes = _activation_sizes(graph)
    outputs = set(graph.outputs)
    n_nodes = len(graph.nodes)

    def resident(done: frozenset[int]) -> int:
        """Bytes of tensors produced so far (or model inputs) that someone still needs."""
        made = [t for t in graph.inputs if t in sizes]
        made += [t for n in done for t in graph.nodes[n].outputs if t in sizes]
        return sum(sizes[t] for t in set(made)
                   if t in outputs or any(c not in done for c in consumers.get(t, ())))

    best: dict[frozenset[int], tuple[int, list[int]]] = {frozenset(): (resident(frozenset()), [])}
    frontier = [frozenset()]
    for _ in range(n_nodes):
        nxt: dict[frozenset[int], tuple[int, list[int]]] = {}
        for done in frontier:
            peak, order = best[done]
            base = resident(done)
            for n in range(n_nodes):
                if n in done or not preds[n] <= done:
                    continue
                during = base + sum(sizes.get(t, 0) for t in graph.nodes[n].outputs)
                state = done | {n}
                cand = (max(peak, during), [*order, n])
                if state not in nxt or cand[0] < nxt[state][0]:
                    nxt[state] = cand
        frontier = sorted(nxt, key=lambda st: nxt[st][0])[:BEAM]
        best = {st: nxt[st] for st in frontier}
    return best[frozenset(range(n_nodes))][1]


def _greedy_order(graph: Graph) -> list[int]:
    preds, _, consumers = _dependencies(graph)
    sizes = _activation_sizes(graph)
    outputs = set(graph.outputs)
    remaining = {t: len(c) for t, c in consumers.items()}
    done: set[int] = set()
    order: list[int] = []
    while len(order) < len(graph.nodes):
        ready = [n for n in range(len(graph.nodes)) if n not in done and preds[n] <= done]

        def cost(n: int) -> tuple[int, int]:
            node = graph.nodes[n]
            allocated = sum(sizes.get(t, 0) for t in node.outputs)
            freed = sum(sizes.get(t, 0) for t in set(node.inputs)
                        if t in remaining and remaining[t] == node.inputs.count(t) and t not in outputs)
            return (allocated - freed, n)

        n = min(ready, key=cost)
        order.append(n)
        done.add(n)
        for t in graph.nodes[n].inputs:
            if t in remaining:
                remaining[t] -= 1
    return order


SCHEDULERS = {"model": model_order, "memory": memory_aware_order}
