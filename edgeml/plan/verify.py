"""The plan verifier: every plan passes through it before anything uses it."""

from __future__ import annotations

from collections.abc import Sequence

from edgeml.plan.arena import ALIGNMENT, Placement
from edgeml.plan.lifetimes import Buffer, PlanError


def verify_placement(buffers: Sequence[Buffer], placement: Placement, where: str = "plan") -> None:
    """Raise PlanError unless offsets are aligned, in the arena, and never overlap while both live."""
    top = 0
    for buf in buffers:
        if buf.id not in placement.offsets:
            raise PlanError(f"{where}: buffer {buf.label} has no offset")
        offset = placement.offsets[buf.id]
        if offset < 0 or offset % ALIGNMENT:
            raise PlanError(f"{where}: buffer {buf.label} at offset {offset} is not {ALIGNMENT}-byte aligned")
        top = max(top, offset + buf.size)
    if top > placement.arena_bytes:
        raise PlanError(f"{where}: buffers reach byte {top}, past the reported arena of {placement.arena_bytes}")
    if placement.arena_bytes - top >= ALIGNMENT:
        raise PlanError(f"{where}: reported arena {placement.arena_bytes} is larger than the {top} bytes used")
    ordered = sorted((b for b in buffers if b.size), key=lambda b: placement.offsets[b.id])
    for i, a in enumerate(ordered):
        a_start = placement.offsets[a.id]
        for b in ordered[i + 1:]:
            b_start = placement.offsets[b.id]
            if b_start >= a_start + a.size:
                break
            if a.overlaps_in_time(b):
                raise PlanError(
                    f"{where}: buffers {a.label} [{a_start}, {a_start + a.size}) steps {a.first}-{a.last} and "
                    f"{b.label} [{b_start}, {b_start + b.size}) steps {b.first}-{b.last} overlap"
                )
