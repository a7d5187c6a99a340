"""STRIDED_SLICE: int8 / int16 slicing with every TFLite mask.

TFLite (BUILTIN_REF) first folds ellipsis_mask and new_axis_mask into an "effective" input shape
(new axes become size-1 dims, the ellipsis expands to full begin/end-masked axes), then per axis:
start = begin (+ size if negative), clamped to [0, size] ([-1, size - 1] for negative strides),
overridden by begin_mask; end likewise (plus start when `offset`), overridden by end_mask;
shrink_axis_mask makes a one-element slice [start, start + 1) and drops the axis.

TFLite Micro ignores ellipsis_mask, new_axis_mask and offset; its output shape check then decides
whether the model runs. Both are reproduced from ctx.numerics.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from edgeml.codegen.c_values import CCall
from edgeml.codegen.c_walk import contiguous_strides, walk
from edgeml.ir.dtypes import DType
from edgeml.ops.base import Numerics, OpContext, OpSpec
from edgeml.ops.common import require_dtype


@dataclass(frozen=True)
class StridedSliceAttrs:
    begin_mask: int = 0
    end_mask: int = 0
    ellipsis_mask: int = 0
    new_axis_mask: int = 0
    shrink_axis_mask: int = 0
    offset: bool = False


@dataclass(frozen=True)
class AxisSlice:
    start: int
    stop: int  # exclusive; -1 means "past the first element" for negative strides
    stride: int


@dataclass(frozen=True)
class StridedSliceParams:
    effective_shape: tuple[int, ...]  # input shape with new axes inserted
    axes: tuple[AxisSlice, ...]
    output_shape: tuple[int, ...]

    @property
    def sliced_shape(self) -> tuple[int, ...]:
        """Extent of the slice along every effective axis (shrunk axes included, as 1)."""
        return tuple(_extent(a) for a in self.axes)


@dataclass(frozen=True)
class _Spec:
    """Per-axis begin/end/stride and masks over the effective shape."""

    shape: tuple[int, ...]
    begin: tuple[int, ...]
    end: tuple[int, ...]
    strides: tuple[int, ...]
    begin_mask: int
    end_mask: int
    shrink_mask: int
    offset: bool


def _bit(mask: int, i: int) -> bool:
    return bool(mask & (1 << i))


def _clamp(v: int, lo: int, hi: int) -> int:
    return hi if v > hi else lo if v < lo else v


def _extent(a: AxisSlice) -> int:
    if a.stride > 0:
        return max(0, -(-(a.stop - a.start) // a.stride))
    return max(0, -(-(a.start - a.stop) // -a.stride))


def expand_masks(attrs: StridedSliceAttrs, shape: tuple[int, ...], begin, end, strides) -> _Spec:
    """TFLite's BuildStridedSliceParams: fold ellipsis and new axes into an effective spec."""
    count = len(begin)
    new_axes = sum(1 for i in range(count) if not _bit(attrs.ellipsis_mask, i) and _bit(attrs.new_axis_mask, i))
    dims = len(shape) + new_axes
    ellipsis_axes: set[int] = set()
    new_axis_axes: set[int] = set()
    ellipsis_start, expanded = dims, 0
    i = 0
    while i < dims:
        if _bit(attrs.ellipsis_mask, i):
            ellipsis_start = i
            ellipsis_end = max(i + 1, min(i + 1 + new_axes + len(shape) - count, dims))
            expanded = ellipsis_end - ellipsis_start - 1
            ellipsis_axes.update(range(i, ellipsis_end))
            i = ellipsis_end
            continue
        if _bit(attrs.new_axis_mask, i - expanded):
            new_axis_axes.add(i)
        i += 1
    eff_shape, eff_begin, eff_end, eff_strides = [], [], [], []
    begin_mask = end_mask = shrink_mask = 0
    added_ellipsis = added_axes = 0
    for i in range(dims):
        if i in ellipsis_axes:
            added_ellipsis = max(0, i - ellipsis_start)
            begin_mask |= 1 << i
            end_mask |= 1 << i
            eff_shape.append(shape[i - added_axes])
            eff_begin.append(0), eff_end.append(0), eff_strides.append(1)
        elif i in new_axis_axes:
            eff_shape.append(1)
            eff_begin.append(0), eff_end.append(1), eff_strides.append(1)
            added_axes += 1
        elif i >= count + expanded:
            begin_mask |= 1 << i
            end_mask |= 1 << i
            eff_shape.append(shape[i - added_axes])
            eff_begin.append(0), eff_end.append(0), eff_strides.append(1)
        else:
            k = i - added_ellipsis
            eff_begin.append(int(begin[k])), eff_end.append(int(end[k])), eff_strides.append(int(strides[k]))
            begin_mask |= _bit(attrs.begin_mask, k) << i
            end_mask |= _bit(attrs.end_mask, k) << i
            shrink_mask |= _bit(attrs.shrink_axis_mask, k) << i
            eff_shape.append(shape[i - added_axes])
    return _Spec(tuple(eff_shape), tuple(eff_begin), tuple(eff_end), tuple(eff_strides), begin_mask, end_mask,
                 shrink_mask, attrs.offset)


def resolve_axis(spec: _Spec, axis: int) -> AxisSlice:
    """StartForAxis / EndForAxis of the references."""
    size, stride = spec.shape[axis], spec.strides[axis]
    start = spec.begin[axis]
    if start < 0:
        start += size
    start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
    if _bit(spec.begin_mask, axis):
        start = 0 if stride > 0 else size - 1
    if _bit(spec.shrink_mask, axis):
        return AxisSlice(start, start if start >= size else start + 1, stride)
    end = spec.end[axis] + (start if spec.offset else 0)
    if end < 0:
        end += size
    end = _clamp(end, 0, size) if stride > 0 else _clamp(end, -1, size - 1)
    if _bit(spec.end_mask, axis):
        end = size if stride > 0 else -1
    return AxisSlice(start, end, stride)


def prepare(ctx: OpContext) -> StridedSliceParams:
    x, out = ctx.input(0), ctx.output()
    require_dtype(ctx, x, "input", DType.INT8, DType.INT16, DType.INT32)
    require_dtype(ctx, out, "output", x.dtype)
    begin, end, strides = (ctx.constant(i).reshape(-1) for i in (1, 2, 3))
    if not len(begin) == len(end) == len(strides) or len(begin) > 31:
        raise ctx.unsupported("begin, end and strides must have the same length (at most 31)")
    if np.any(strides == 0):
        raise ctx.unsupported("a stride of 0")
    attrs = ctx.attrs
    if ctx.numerics is Numerics.TFLM:
        if len(x.shape) > 4 or len(begin) != len(x.shape):
            raise ctx.unsupported("TFLite Micro slices at most 4-D inputs, with one begin/end/stride per axis")
        # TFLite Micro reads neither ellipsis_mask, new_axis_mask nor offset.
        attrs = StridedSliceAttrs(attrs.begin_mask, attrs.end_mask, 0, 0, attrs.shrink_axis_mask, False)
    if len(begin) > len(x.shape) and not (attrs.ellipsis_mask or attrs.new_axis_mask):
        raise ctx.unsupported(f"{len(begin)} slice entries for a rank-{len(x.shape)} input")
    spec = expand_masks(attrs, x.shape, begin, end, strides)
    axes = tuple(resolve_axis(spec, a) for a in range(len(spec.shape)))
    kept = tuple(_extent(a) for i, a in enumerate(axes) if not _bit(spec.shrink_mask, i))
    if kept != out.shape:
        raise ctx.unsupported(f"output shape {out.shape} disagrees with the slice ({kept})")
    return StridedSliceParams(spec.shape, axes, out.shape)


def reference(p: StridedSliceParams, inputs) -> list[np.ndarray]:
    x = inputs[0].reshape(p.effective_shape)
    ranges = [range(a.start, a.stop, a.stride) for a in p.axes]
    values = [x[index] for index in itertools.product(*ranges)]
    return [np.array(values, dtype=x.dtype).reshape(p.output_shape)]


def _python_slice(a: AxisSlice) -> slice:
    if _extent(a) == 0:
        return slice(0, 0)  # a start of -1 would mean "the last element" to Python
    # A stop of -1 with a negative stride means "through index 0", which Python spells None.
    return slice(a.start, None if a.stop < 0 else a.stop, a.stride)


def kernel(p: StridedSliceParams, inputs, outputs) -> None:
    view = inputs[0].reshape(p.effective_shape)[tuple(_python_slice(a) for a in p.axes)]
    np.copyto(outputs[0].reshape(p.sliced_shape), view)


def c_emit(p: StridedSliceParams, ctx: OpContext) -> CCall:
    strides = contiguous_strides(p.effective_shape)
    # An empty slice walks nothing; its starts may lie outside the input.
    start = sum(a.start * s for a, s in zip(p.axes, strides, strict=True)) if 0 not in p.sliced_shape else 0
    steps = walk(p.sliced_shape, [a.stride * s for a, s in zip(p.axes, strides, strict=True)],
                 contiguous_strides(p.sliced_shape), src_offset=start)
    return CCall("tensor_copy", "edg_tensor_copy", "edg_tensor_copy_params_t",
                 {"walk": steps, "elem_bytes": ctx.input(0).dtype.np.itemsize})


SPEC = OpSpec(name="STRIDED_SLICE", prepare=prepare, reference=reference, kernel=kernel, c_emit=c_emit)
