"""Buffers and their lifetimes for a given op order.

A buffer is a piece of arena memory holding one or more tensors: several when an op only
reinterprets its input (OpSpec.alias) or writes over an input that dies at that op (OpSpec.inplace).
Every fact about an op comes from its OpSpec; nothing here looks at op names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from edgeml.errors import EdgemlError
from edgeml.ir.graph import Graph, TensorKind
from edgeml.ops.base import Numerics, OpContext
from edgeml.ops.registry import REGISTRY


class PlanError(EdgemlError):
    """A graph cannot be planned (an op without a memory description, a broken order)."""


@dataclass(eq=False)
class Buffer:
    id: int
    size: int  # bytes
    first: int  # first step at which the buffer holds live data
    last: int  # last step at which it is read
    tensors: list[int] = field(default_factory=list)  # IR tensor indices stored here (at offset 0)
    scratch_of: int | None = None  # step index, for an op's scratch buffer
    persistent: bool = False  # state carried across invocations

    def overlaps_in_time(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last

    @property
    def label(self) -> str:
        if self.scratch_of is not None:
            return f"scratch of step {self.scratch_of}"
        return "+".join(str(t) for t in self.tensors)


@dataclass(frozen=True)
class LifetimeOptions:
    inplace: bool = True  # merge an op's output into an input that dies there (OpSpec.inplace)
    alias: bool = True  # merge a reshape's output into its input (OpSpec.alias)
    # Let an in-place output larger than its input grow the input's buffer. A buffer has one size over
    # its whole lifetime, so growing can cost more at earlier steps than it saves at this one.
    grow: bool = True


def compute_buffers(graph: Graph, order: Sequence[int], numerics: Numerics = Numerics.TFLITE,
                    options: LifetimeOptions = LifetimeOptions()) -> list[Buffer]:
    """Buffers for every activation, state tensor and scratch area, with lifetimes in step units.

    Step s runs graph.nodes[order[s]]. Graph inputs are live from step 0, graph outputs until the
    last step, state tensors for the whole invocation (and beyond: they are never reused).
    """
    _check_order(graph, order)
    steps = len(order)
    last_step = max(steps - 1, 0)
    produced_at: dict[int, int] = {}
    last_read: dict[int, int] = {}
    for step, node_index in enumerate(order):
        node = graph.nodes[node_index]
        for t in node.inputs:
            if t >= 0:
                last_read[t] = step
        for t in node.outputs:
            produced_at[t] = step
    for t in graph.outputs:
        last_read[t] = last_step

    owner: dict[int, Buffer] = {}
    buffers: list[Buffer] = []

    def new_buffer(tensor: int, first: int, last: int, persistent: bool = False) -> Buffer:
        buf = Buffer(id=len(buffers), size=graph.tensors[tensor].nbytes, first=first, last=last,
                     tensors=[tensor], persistent=persistent)
        buffers.append(buf)
        owner[tensor] = buf
        return buf

    for i, tensor in enumerate(graph.tensors):
        if tensor.kind is TensorKind.STATE:
            new_buffer(i, 0, last_step, persistent=True)
    for t in graph.inputs:
        if t not in owner:
            new_buffer(t, 0, last_read.get(t, 0))

    for step, node_index in enumerate(order):
        node = graph.nodes[node_index]
        spec = REGISTRY.get(node.op)
        if spec is None:
            raise PlanError(f"{graph.source_path or graph.name}: {graph.node_label(node_index)} has no OpSpec")
        ctx = OpContext(graph, node, numerics)
        scratch = spec.scratch_bytes(ctx)
        for k, t in enumerate(node.outputs):
            if t in owner or graph.tensors[t].kind is not TensorKind.ACTIVATION:
                continue
            end = last_read.get(t, step)
            host = _shared_input(graph, node.inputs, k, t, spec, spec.inplace_pairs(ctx), owner, step, options)
            if host is None:
                new_buffer(t, step, end)
                continue
            if not (spec.alias and options.alias):
                scratch += spec.inplace_scratch_bytes(ctx)  # only an in-place run needs it
            host.tensors.append(t)
            host.size = max(host.size, graph.tensors[t].nbytes)
            host.last = max(host.last, end)
            owner[t] = host
        if scratch:
            buffers.append(Buffer(id=len(buffers), size=scratch, first=step, last=step, scratch_of=step))
    return buffers


def _shared_input(graph: Graph, inputs: list[int], output_k: int, output: int, spec, inplace_pairs,
                  owner: dict[int, Buffer], step: int, options: LifetimeOptions) -> Buffer | None:
    """The input buffer this output may live in, or None."""
    candidates: list[int] = []
    if options.alias and spec.alias and output_k == 0 and inputs and inputs[0] >= 0:
        candidates.append(inputs[0])
    if options.inplace:
        candidates += [inputs[i] for out_k, i in inplace_pairs if out_k == output_k and i < len(inputs)]
    for t in candidates:
        buf = owner.get(t)
        if buf is None or buf.persistent or t < 0:
            continue
        if spec.alias and options.alias and t == inputs[0]:
            return buf  # a view: the input may stay live, both read the same bytes
        # In place: the input's bytes are overwritten, so nothing may read them after this step. Which
        # pairs may share, and at which sizes, is the op's decision (OpSpec.inplace).
        grows = graph.tensors[output].nbytes > buf.size
        if buf.last == step and not any(x in graph.outputs for x in buf.tensors) and (options.grow or not grows):
            return buf
    return None


def _check_order(graph: Graph, order: Sequence[int]) -> None:
    where = graph.source_path or graph.name
    if sorted(order) != list(range(len(graph.nodes))):
        raise PlanError(f"{where}: the op order is not a permutation of the {len(graph.nodes)} ops")
    available = {i for i, t in enumerate(graph.tensors) if t.kind is not TensorKind.ACTIVATION}
    available.update(graph.inputs)
    for node_index in order:
        node = graph.nodes[node_index]
        missing = [t for t in node.inputs if t >= 0 and t not in available]
        if missing:
            raise PlanError(f"{where}: {graph.node_label(node_index)} runs before tensor {missing[0]} is produced")
        available.update(node.outputs)


def live_bytes_per_step(buffers: Sequence[Buffer], steps: int) -> list[int]:
    """Bytes held by live buffers at each step."""
    live = [0] * max(steps, 1)
    for buf in buffers:
        for s in range(buf.first, buf.last + 1):
            live[s] += buf.size
    return live


def lower_bound(buffers: Sequence[Buffer], steps: int) -> tuple[int, int]:
    """(max over steps of the bytes live at that step, the step where it is reached)."""
    live = live_bytes_per_step(buffers, steps)
    peak = max(live)
    return peak, live.index(peak)
