"""plan_memory: op order + buffers + arena offsets, verified, with the figures `edgeml plan` reports."""

from __future__ import annotations

from dataclasses import dataclass

from edgeml.ir.graph import Graph
from edgeml.ops.base import Numerics
from edgeml.plan.arena import PLANNERS, Placement, align, best_fit, exact, greedy_by_size
from edgeml.plan.lifetimes import Buffer, LifetimeOptions, compute_buffers, live_bytes_per_step, lower_bound
from edgeml.plan.schedule import SCHEDULERS
from edgeml.plan.verify import verify_placement

EXACT_BUFFER_LIMIT = 40  # buffers; the exact planner runs (with a node budget) up to this many
EXACT_NODE_BUDGET = 20_000  # search nodes, about a second of Python


@dataclass(eq=False)
class MemoryPlan:
    graph: Graph
    order: list[int]  # node indices in execution order
    buffers: list[Buffer]
    placement: Placement
    lower_bound_bytes: int  # for this order, without in-place sharing: what no placement can beat
    peak_step: int  # step at which the live bytes of the plan peak
    live_bytes: list[int]  # per step, of the plan's buffers

    @property
    def arena_bytes(self) -> int:
        return self.placement.arena_bytes

    def offset_of(self, tensor: int) -> int:
        for buf in self.buffers:
            if tensor in buf.tensors:
                return self.placement.offsets[buf.id]
        raise KeyError(tensor)

    def tensor_offsets(self) -> dict[int, int]:
        return {t: self.placement.offsets[b.id] for b in self.buffers for t in b.tensors}

    def scratch_offsets(self) -> dict[int, tuple[int, int]]:
        """step -> (offset, bytes) of that step's scratch buffer."""
        return {b.scratch_of: (self.placement.offsets[b.id], b.size) for b in self.buffers
                if b.scratch_of is not None}


def place(buffers: list[Buffer], planner: str) -> Placement:
    if planner == "best":
        incumbent = min((greedy_by_size(buffers), best_fit(buffers)), key=lambda p: p.arena_bytes)
        bound = align(lower_bound(buffers, 1 + max((b.last for b in buffers), default=0))[0])
        if incumbent.arena_bytes <= bound or len(buffers) > EXACT_BUFFER_LIMIT:
            return incumbent
        return exact(buffers, incumbent=incumbent, lower=bound, node_budget=EXACT_NODE_BUDGET)
    return PLANNERS[planner](buffers)


def plan_memory(graph: Graph, *, scheduler: str = "memory", planner: str = "best", inplace: bool = True,
                numerics: Numerics = Numerics.TFLITE) -> MemoryPlan:
    """Order, buffers and offsets, verified. With inplace, sharing is tried and kept only if it helps:
    merging buffers can also make a packing worse."""
    order = SCHEDULERS[scheduler](graph)
    steps = len(order)
    plain = compute_buffers(graph, order, numerics, LifetimeOptions(inplace=False))
    bound, _ = lower_bound(plain, steps)
    candidates = [plain]
    if inplace:
        candidates = [compute_buffers(graph, order, numerics, LifetimeOptions(inplace=True, grow=grow))
                      for grow in (True, False)] + candidates
    best: tuple[list[Buffer], Placement] | None = None
    for buffers in candidates:
        placement = place(buffers, planner)
        if best is None or placement.arena_bytes < best[1].arena_bytes:
            best = (buffers, placement)
    buffers, placement = best
    verify_placement(buffers, placement, graph.source_path or graph.name)
    live = live_bytes_per_step(buffers, steps)
    return MemoryPlan(graph=graph, order=order, buffers=buffers, placement=placement, lower_bound_bytes=bound,
                      peak_step=live.index(max(live)), live_bytes=live)
