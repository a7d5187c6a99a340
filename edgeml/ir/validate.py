"""Graph invariants, checked after conversion and after every pass."""

from __future__ import annotations

from edgeml.errors import GraphError
from edgeml.ir.graph import UNSUPPORTED_OP, Graph, TensorKind


def validate(graph: Graph) -> None:
    """Raise GraphError naming the first broken invariant; return None if the graph is sound."""
    count = len(graph.tensors)
    where = graph.source_path or graph.name
    for role, indices in (("input", graph.inputs), ("output", graph.outputs)):
        for i in indices:
            if not 0 <= i < count:
                raise GraphError(f"{where}: graph {role} refers to tensor {i} of {count}")
    available = {i for i, t in enumerate(graph.tensors) if t.kind is not TensorKind.ACTIVATION}
    available.update(graph.inputs)
    produced: set[int] = set()
    for n, node in enumerate(graph.nodes):
        label = graph.node_label(n)
        for i in node.inputs:
            if i == -1:
                continue
            if not 0 <= i < count:
                raise GraphError(f"{where}: {label} reads tensor {i} of {count}")
            # An op edgeml cannot run may read tensors nothing produces (a custom op's scratch);
            # it is refused when the graph is prepared, with every other such op.
            if i not in available and node.op != UNSUPPORTED_OP:
                raise GraphError(
                    f"{where}: {label} reads tensor {i} ({graph.tensors[i].name}) before it is produced"
                )
        for i in node.outputs:
            if not 0 <= i < count:
                raise GraphError(f"{where}: {label} writes tensor {i} of {count}")
            tensor = graph.tensors[i]
            if tensor.is_constant:
                raise GraphError(f"{where}: {label} writes constant tensor {tensor.name}")
            if i in produced:
                raise GraphError(f"{where}: tensor {tensor.name} is produced twice (by {label})")
            produced.add(i)
            available.add(i)
    for i in graph.outputs:
        if i not in available:
            raise GraphError(f"{where}: graph output {graph.tensors[i].name} is never produced")
    for i, tensor in enumerate(graph.tensors):
        if tensor.is_constant:
            if tensor.data is None:
                raise GraphError(f"{where}: constant tensor {i} ({tensor.name}) has no data")
            if tuple(tensor.data.shape) != tuple(tensor.shape):
                raise GraphError(
                    f"{where}: constant tensor {i} ({tensor.name}) has data of shape "
                    f"{tensor.data.shape}, declared {tensor.shape}"
                )
        if tensor.view is not None and not 0 <= tensor.view.base < count:
            raise GraphError(f"{where}: tensor {tensor.name} is a view of missing tensor {tensor.view.base}")
