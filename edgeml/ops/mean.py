"""MEAN over any set of axes: int8 / int16, the references' QuantizedMeanOrSum.

Both references (BUILTIN_REF and TFLite Micro) take the same path for every axis set, including
the 4-D H,W global pool (the special 4-D kernel exists only in TFLite's optimized resolver):
sum the inputs in int32, subtract zero_point * n, and requantize with the multiplier of
input_scale / output_scale into which 1/n has been folded:

    s = min(floor(log2 n), 32, 31 + shift);  multiplier = (multiplier << s) / n;  shift -= s

(integer division, truncating). The requantization is gemmlowp's double rounding in BOTH
references: ai-edge-litert's MEAN does not follow its TFLITE_SINGLE_ROUNDING build here (measured:
single rounding differs on ~20% of outputs, double rounding matches all). With a folded shift of
-1, common, the two roundings in a row send x.25 .. x.5 away from zero too, not only x.5 and up.
Only QuantizeMultiplier's shift cap (single-rounding builds cap the shift at 30) follows
ctx.numerics.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CCall
from edgeml.codegen.c_walk import contiguous_strides, walk
from edgeml.ir.dtypes import DType
from edgeml.ops.base import ALL_NUMERICS, OpContext, OpSpec
from edgeml.ops.common import dtype_limits, require_dtype, require_quant
from edgeml.quant.fixedpoint import wrap_int32
from edgeml.quant.requant import (
    Rounding,
    float32_bits,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    requantize_channels_float32,
    requantize_float32_array,
)

# See the module docstring: both references requantize MEAN with double rounding.
MEAN_ROUNDING = Rounding.DOUBLE


@dataclass(frozen=True)
class ReducerAttrs:
    keep_dims: bool = False


@dataclass(frozen=True)
class MeanParams:
    axes: tuple[int, ...]  # resolved: non-negative, unique, ascending
    count: int  # elements reduced into each output
    input_zero_point: int
    output_zero_point: int
    multiplier: int  # with 1/count folded in
    shift: int
    rounding: Rounding
    lo: int
    hi: int
    output_shape: tuple[int, ...]
    # onnxruntime numerics (QLinearGlobalAveragePool): float32 s_x / (s_y * count), round half to even.
    onnx_scale: np.ndarray | None = None


def resolve_axes(ctx: OpContext, axis_values: np.ndarray, rank: int) -> tuple[int, ...]:
    axes = set()
    for value in np.asarray(axis_values).reshape(-1):
        axis = int(value) + rank if value < 0 else int(value)
        if not 0 <= axis < rank:
            raise ctx.unsupported(f"axis {int(value)} is out of range for rank {rank}")
        axes.add(axis)
    return tuple(sorted(axes))


def fold_count_into_multiplier(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """QuantizedMeanOrSum's 1/count folding: keep precision by pre-shifting, then divide."""
    pre_shift = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << pre_shift) // count, shift - pre_shift


def prepare(ctx: OpContext) -> MeanParams:
    x, out = ctx.input(0), ctx.output()
    require_dtype(ctx, x, "input", DType.INT8, DType.INT16)
    require_dtype(ctx, out, "output", x.dtype)
    in_q, out_q = require_quant(ctx, x, "input"), require_quant(ctx, out, "output")
    axes = resolve_axes(ctx, ctx.constant(1), len(x.shape))
    kept = [d for i, d in enumerate(x.shape) if i not in axes]
    if int(np.prod(kept, dtype=np.int64)) != out.num_elements:
        raise ctx.unsupported(f"output shape {out.shape} does not match reducing {x.shape} over axes {axes}")
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    if count == 0 or x.num_elements == 0:
        raise ctx.unsupported("empty input")
    lo, hi = dtype_limits(out.dtype)
    if ctx.numerics.is_onnx:
        if x.dtype is not DType.INT8:
            raise ctx.unsupported("onnxruntime numerics cover int8 MEAN only")
        scale = np.float32(in_q.single_scale) / (np.float32(out_q.single_scale) * np.float32(count))
        return MeanParams(axes, count, in_q.single_zero_point, out_q.single_zero_point, 0, 0, Rounding.SINGLE,
                          lo, hi, out.shape, onnx_scale=np.array([scale], np.float32))
    real = float(np.float32(in_q.single_scale)) / float(np.float32(out_q.single_scale))
    multiplier, shift = quantize_multiplier(real, ctx.numerics.rounding)
    multiplier, shift = fold_count_into_multiplier(multiplier, shift, count)
    return MeanParams(axes, count, in_q.single_zero_point, out_q.single_zero_point, multiplier, shift,
                      MEAN_ROUNDING, lo, hi, out.shape)


def _requantize(p: MeanParams, total: int) -> int:
    shifted = wrap_int32(total - p.input_zero_point * p.count)
    value = multiply_by_quantized_multiplier(shifted, p.multiplier, p.shift, int(p.rounding))
    return min(max(value + p.output_zero_point, p.lo), p.hi)


def reference(p: MeanParams, inputs) -> list[np.ndarray]:
    x = inputs[0]
    if p.onnx_scale is not None:
        total = x.astype(np.int64).sum(axis=p.axes) - p.input_zero_point * p.count
        out = requantize_float32_array(total, p.onnx_scale[0], p.output_zero_point, p.lo, p.hi)
        return [out.astype(x.dtype).reshape(p.output_shape)]
    sums: dict[tuple[int, ...], int] = {}
    for index in itertools.product(*(range(d) for d in x.shape)):
        key = tuple(i for axis, i in enumerate(index) if axis not in p.axes)
        sums[key] = sums.get(key, 0) + int(x[index])
    out = np.array([_requantize(p, wrap_int32(sums[key])) for key in sorted(sums)], dtype=x.dtype)
    return [out.reshape(p.output_shape)]


@njit(cache=True)
def requantize_sums(sums, subtract, multiplier, shift, rounding, zero_point, lo, hi, out):
    for i in range(sums.shape[0]):
        shifted = wrap_int32(wrap_int32(sums[i]) - subtract)
        value = multiply_by_quantized_multiplier(shifted, multiplier, shift, rounding) + zero_point
        out[i] = min(max(value, lo), hi)


def kernel(p: MeanParams, inputs, outputs) -> None:
    sums = inputs[0].sum(axis=p.axes, dtype=np.int64).reshape(-1)
    if p.onnx_scale is not None:
        totals = (sums - p.input_zero_point * p.count).reshape(-1, 1)
        requantize_channels_float32(totals, np.zeros(0, np.int64), p.onnx_scale, p.output_zero_point, p.lo, p.hi,
                                    outputs[0].reshape(-1, 1))
        return
    requantize_sums(sums, p.input_zero_point * p.count, p.multiplier, p.shift, int(p.rounding),
                    p.output_zero_point, p.lo, p.hi, outputs[0].reshape(-1))


def macs(ctx: OpContext) -> int:
    return ctx.input(0).num_elements


def c_emit(p: MeanParams, ctx: OpContext) -> CCall:
    x = ctx.input(0)
    strides = contiguous_strides(x.shape)
    order = [a for a in range(len(x.shape)) if a not in p.axes] + list(p.axes)
    steps = walk([x.shape[a] for a in order], [strides[a] for a in order], [0] * len(order))
    multiplier, shift, rounding = p.multiplier, p.shift, int(p.rounding)
    if p.onnx_scale is not None:
        multiplier, shift, rounding = int(float32_bits(p.onnx_scale)[0]), 0, int(Rounding.FLOAT32)
    return CCall("mean", f"edg_mean_s{x.dtype.np.itemsize * 8}", "edg_mean_params_t",
                 {"walk": steps, "count": p.count, "outputs": ctx.output().num_elements,
                  "input_zero_point": p.input_zero_point, "output_zero_point": p.output_zero_point,
                  "multiplier": multiplier, "shift": shift, "rounding": rounding, "lo": p.lo, "hi": p.hi},
                 omit_inputs=(1,))


SPEC = OpSpec(name="MEAN", prepare=prepare, reference=reference, kernel=kernel, macs=macs, c_emit=c_emit,
              numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
