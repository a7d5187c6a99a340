"""Arena planners: give every buffer an offset so that buffers live at the same time never overlap.

* greedy_by_size: TensorFlow Lite Micro's GreedyMemoryPlanner (largest first, lowest gap that fits),
  kept as the baseline to compare with.
* best_fit: several orderings (size, size x lifetime, lifetime, start), each placed in the tightest
  gap that fits; the smallest result wins.
* exact: branch and bound over placement orders for small problems, proven optimal for the
  buffers it is given (or the best found within its node budget).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edgeml.plan.lifetimes import Buffer

ALIGNMENT = 16


def align(n: int, alignment: int = ALIGNMENT) -> int:
    return (n + alignment - 1) // alignment * alignment


@dataclass(frozen=True)
class Placement:
    offsets: dict[int, int]  # buffer id -> byte offset
    arena_bytes: int
    planner: str
    optimal: bool = False


def _gaps(placed: list[tuple[int, int]], size: int) -> list[int]:
    """Candidate offsets: 0 and the aligned end of every placed interval, where `size` bytes fit."""
    candidates = sorted({0, *(align(end) for _, end in placed)})
    fits = []
    for start in candidates:
        end = start + size
        if all(end <= s or start >= e for s, e in placed):
            fits.append(start)
    return fits


Chooser = Callable[[list[int], list[tuple[int, int]], int], int]


def _place(buffers: Sequence[Buffer], order: Sequence[Buffer], choose: Chooser, name: str) -> Placement:
    """Place buffers one by one in `order`, each at the offset `choose` picks among those that fit."""
    offsets: dict[int, int] = {}
    for buf in order:
        placed = [(offsets[o.id], offsets[o.id] + o.size) for o in buffers
                  if o.id in offsets and o.overlaps_in_time(buf) and o.size]
        offsets[buf.id] = choose(_gaps(placed, buf.size), placed, buf.size) if buf.size else 0
    top = max((offsets[b.id] + b.size for b in buffers), default=0)
    return Placement(offsets, align(top), name)


def _lowest(fits: list[int], _placed: list[tuple[int, int]], _size: int) -> int:
    return fits[0]


def _tightest(fits: list[int], placed: list[tuple[int, int]], size: int) -> int:
    """Best fit: the gap with the least free space left above the buffer; the top counts as infinite."""

    def slack(start: int) -> tuple[int, int]:
        above = [s for s, _ in placed if s >= start + size]
        return (min(above) - start - size if above else 1 << 62, start)

    return min(fits, key=slack)


def greedy_by_size(buffers: Sequence[Buffer]) -> Placement:
    """TFLM's GreedyMemoryPlanner: largest first (ties by earlier start), first gap from the bottom."""
    return _place(buffers, sorted(buffers, key=lambda b: (-b.size, b.first)), _lowest, "greedy_by_size")


ORDERINGS: dict[str, Callable[[Buffer], tuple]] = {
    "size": lambda b: (-b.size, b.first),
    "area": lambda b: (-b.size * (b.last - b.first + 1), -b.size),
    "lifetime": lambda b: (-(b.last - b.first), -b.size),
    "start": lambda b: (b.first, -b.size),
}


def best_fit(buffers: Sequence[Buffer]) -> Placement:
    """Every ordering with best-fit placement; the smallest arena wins."""
    results = [_place(buffers, sorted(buffers, key=key), _tightest, f"best_fit/{name}")
               for name, key in ORDERINGS.items()]
    return min(results, key=lambda p: p.arena_bytes)


def exact(buffers: Sequence[Buffer], *, incumbent: Placement | None = None, lower: int = 0,
          node_budget: int = 200_000) -> Placement:
    """Branch and bound over placements in non-decreasing offset order.

    Any packing can be pushed down until every buffer rests at 0 or on the end of a buffer live at
    the same time; listing buffers by offset, each then rests on one listed before it. So choosing,
    at each node, any unplaced buffer and any such resting offset at or above the previous one
    enumerates an optimal packing. Pruned by the incumbent and by the lower bound; exact unless
    the node budget runs out (then the best found, marked not optimal).
    """
    items = [b for b in buffers if b.size]
    best = incumbent or best_fit(buffers)
    best_top = best.arena_bytes
    best_offsets = dict(best.offsets)
    nodes = 0
    offsets: dict[int, int] = {}

    def search(floor: int, floor_id: int, top: int) -> bool:
        nonlocal best_top, best_offsets, nodes
        nodes += 1
        if nodes > node_budget:
            return False
        if len(offsets) == len(items):
            if align(top) < best_top:
                best_top, best_offsets = align(top), dict(offsets)
            return best_top <= lower
        for buf in items:
            if buf.id in offsets:
                continue
            placed = [(offsets[o.id], offsets[o.id] + o.size) for o in items
                      if o.id in offsets and o.overlaps_in_time(buf)]
            for start in _gaps(placed, buf.size):
                # Buffers at the same offset are placed in id order: each set is tried once.
                if start < floor or (start == floor and buf.id < floor_id):
                    continue
                if align(max(top, start + buf.size)) >= best_top:
                    continue
                offsets[buf.id] = start
                if search(start, buf.id, max(top, start + buf.size)):
                    return True
                del offsets[buf.id]
        return False

    done = search(0, -1, 0)
    complete = nodes <= node_budget
    for b in buffers:
        best_offsets.setdefault(b.id, 0)
    return Placement(best_offsets, best_top, "exact" if complete or done else "exact(budget)",
                     optimal=complete or done)


PLANNERS: dict[str, Callable[[Sequence[Buffer]], Placement]] = {
    "greedy_by_size": greedy_by_size,
    "best_fit": best_fit,
    "exact": exact,
}
