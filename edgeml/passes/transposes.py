"""Remove TRANSPOSE pairs that undo each other (the layout changes a converter inserts around
NHWC kernels, and the ones exported models carry)."""

from __future__ import annotations

from edgeml.ir.graph import Graph, Node


def _perm(graph: Graph, node: Node) -> tuple[int, ...] | None:
    if node.op != "TRANSPOSE" or len(node.inputs) < 2:
        return None
    data = graph.tensors[node.inputs[1]].data
    return tuple(int(v) for v in data.reshape(-1)) if data is not None else None


def cancel_transposes(graph: Graph) -> int:
    """Where TRANSPOSE(p) feeds TRANSPOSE(q) and q after p is the identity, the second's consumers read
    the first's input instead. Dead transposes are then dropped. Returns how many were removed."""
    removed = 0
    changed = True
    while changed:
        changed = False
        producers = {out: node for node in graph.nodes for out in node.outputs}
        for node in graph.nodes:
            second = _perm(graph, node)
            first_node = producers.get(node.inputs[0]) if second is not None else None
            first = _perm(graph, first_node) if first_node is not None else None
            if first is None or len(first) != len(second):
                continue
            if tuple(first[axis] for axis in second) != tuple(range(len(first))):
                continue
            source, target = first_node.inputs[0], node.outputs[0]
            if target in graph.outputs:  # a graph output keeps its own tensor
                continue
            _replace_uses(graph, target, source)
            changed = True
            break
        removed += _drop_dead_transposes(graph)
    return removed


def _replace_uses(graph: Graph, old: int, new: int) -> None:
    for node in graph.nodes:
        node.inputs = [new if i == old else i for i in node.inputs]


def _drop_dead_transposes(graph: Graph) -> int:
    used = {i for node in graph.nodes for i in node.inputs} | set(graph.outputs)
    before = len(graph.nodes)
    graph.nodes = [n for n in graph.nodes if n.op != "TRANSPOSE" or any(o in used for o in n.outputs)]
    return before - len(graph.nodes)
