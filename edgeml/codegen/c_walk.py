"""The edg_walk_t of firmware/kernels/edg_tensor_walk.h: an N-d index space walked with per-axis source
and destination strides, in elements. The data-movement ops describe themselves with one."""

from __future__ import annotations

from collections.abc import Sequence

MAX_RANK = 6


def contiguous_strides(shape: Sequence[int]) -> tuple[int, ...]:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def walk(shape: Sequence[int], src_strides: Sequence[int], dst_strides: Sequence[int], src_offset: int = 0,
         dst_offset: int = 0) -> tuple:
    """The struct initializer: {rank, {shape}, {src strides}, {dst strides}, src offset, dst offset}.

    A rank-0 walk becomes one axis of one element; ranks above MAX_RANK raise ValueError."""
    if not shape:
        shape, src_strides, dst_strides = (1,), (1,), (1,)
    if len(shape) > MAX_RANK:
        raise ValueError(f"rank {len(shape)} exceeds the C walk's {MAX_RANK}")
    pad = (0,) * (MAX_RANK - len(shape))
    return (len(shape), (*map(int, shape), *pad), (*map(int, src_strides), *pad), (*map(int, dst_strides), *pad),
            int(src_offset), int(dst_offset))
