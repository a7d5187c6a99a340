"""BATCH_MATMUL: int8 x int8 -> int8 with adj_x / adj_y and broadcast batch dimensions.

out[..., i, j] = clamp(MBQM(sum_k (x[..., i, k] - zx) (y[..., k, j] - zy)) + zo), the multiplier
being float32(sx * sy) / so in double, as GetQuantizedConvolutionMultipler computes it; no fused
activation. Both references accumulate in int32 (BUILTIN_REF after transposing operands, TFLM
after folding batch dims when it can) and requantize with gemmlowp's double rounding: measured,
ai-edge-litert's BATCH_MATMUL does not use the single rounding its FULLY_CONNECTED does (single
rounding mismatches on most inputs, double rounding on none). Only QuantizeMultiplier's shift cap
follows ctx.numerics.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np

from edgeml.codegen.c_values import CCall
from edgeml.ir.dtypes import DType
from edgeml.ops.accumulate import requantize_channels
from edgeml.ops.base import ALL_NUMERICS, OpContext, OpSpec
from edgeml.ops.common import dtype_limits, require_dtype, require_quant
from edgeml.quant.requant import (
    Rounding,
    float32_bits,
    multiply_by_quantized_multiplier_array,
    onnx_output_scale,
    quantize_multiplier,
    requantize_channels_float32,
    requantize_float32_array,
)

# See the module docstring: both references requantize BATCH_MATMUL with double rounding.
BATCH_MATMUL_ROUNDING = Rounding.DOUBLE


@dataclass(frozen=True)
class BatchMatMulAttrs:
    adj_x: bool = False
    adj_y: bool = False
    asymmetric_quantize_inputs: bool = False


@dataclass(frozen=True, eq=False)
class BatchMatMulParams:
    adj_x: bool
    adj_y: bool
    lhs_zero_point: int
    rhs_zero_point: int
    output_zero_point: int
    multiplier: np.ndarray  # (cols,) int64, the one multiplier repeated for the shared requantizer
    shift: np.ndarray
    rounding: Rounding
    lo: int
    hi: int
    depth: int
    blas_dtype: np.dtype  # float type in which every partial sum is exact
    rhs_blas: np.ndarray | None  # constant rhs, zero point removed, adjoint applied, in blas_dtype
    output_shape: tuple[int, ...]
    # onnxruntime numerics (QLinearMatMul): float32 (s_a * s_b) / s_y, requantized half to even.
    onnx_scale: np.ndarray | None = None


def _matrix_dims(shape: tuple[int, ...], adjoint: bool) -> tuple[int, int]:
    """(rows, cols) of the matrix the op multiplies, after the optional adjoint."""
    return (shape[-1], shape[-2]) if adjoint else (shape[-2], shape[-1])


def _broadcast_batch(ctx: OpContext, lhs: tuple[int, ...], rhs: tuple[int, ...]) -> tuple[int, ...]:
    rank = max(len(lhs), len(rhs)) - 2
    lhs_b = (1,) * (rank - len(lhs) + 2) + lhs[:-2]
    rhs_b = (1,) * (rank - len(rhs) + 2) + rhs[:-2]
    batch = []
    for a, b in zip(lhs_b, rhs_b, strict=True):
        if a != b and 1 not in (a, b):
            raise ctx.unsupported(f"batch dimensions {lhs[:-2]} and {rhs[:-2]} do not broadcast")
        batch.append(max(a, b))
    return tuple(batch)


def _max_abs_offset_value(dtype: DType, zero_point: int) -> int:
    lo, hi = dtype_limits(dtype)
    return max(hi - zero_point, zero_point - lo)


def prepare(ctx: OpContext) -> BatchMatMulParams:
    x, y, out, attrs = ctx.input(0), ctx.input(1), ctx.output(), ctx.attrs
    for tensor, role in ((x, "lhs"), (y, "rhs"), (out, "output")):
        require_dtype(ctx, tensor, role, DType.INT8)
    quants = [require_quant(ctx, t, r) for t, r in ((x, "lhs"), (y, "rhs"), (out, "output"))]
    if any(q.scale.size != 1 for q in quants):
        raise ctx.unsupported("per-channel quantization is not supported")
    if not (2 <= len(x.shape) <= 5 and 2 <= len(y.shape) <= 5):
        raise ctx.unsupported(f"operands must have rank 2 to 5, got {x.shape} and {y.shape}")
    rows, depth = _matrix_dims(x.shape, attrs.adj_x)
    rhs_depth, cols = _matrix_dims(y.shape, attrs.adj_y)
    if depth != rhs_depth:
        raise ctx.unsupported(f"inner dimensions differ: {x.shape} x {y.shape} (adj_x={attrs.adj_x}, "
                              f"adj_y={attrs.adj_y})")
    expected = (*_broadcast_batch(ctx, x.shape, y.shape), rows, cols)
    if expected != out.shape:
        raise ctx.unsupported(f"output shape {out.shape} disagrees with the operands ({expected})")
    in_q, w_q, out_q = quants
    real = float(np.float32(in_q.single_scale) * np.float32(w_q.single_scale)) / float(np.float32(out_q.single_scale))
    multiplier, shift = quantize_multiplier(real, ctx.numerics.rounding)
    bound = depth * _max_abs_offset_value(x.dtype, in_q.single_zero_point) * _max_abs_offset_value(
        y.dtype, w_q.single_zero_point)
    blas_dtype = np.dtype(np.float32) if bound <= 1 << 24 else np.dtype(np.float64)
    lo, hi = dtype_limits(out.dtype)
    params = BatchMatMulParams(
        adj_x=attrs.adj_x, adj_y=attrs.adj_y, lhs_zero_point=in_q.single_zero_point,
        rhs_zero_point=w_q.single_zero_point, output_zero_point=out_q.single_zero_point,
        multiplier=np.full(cols, multiplier, np.int64), shift=np.full(cols, shift, np.int64),
        rounding=BATCH_MATMUL_ROUNDING, lo=lo, hi=hi, depth=depth, blas_dtype=blas_dtype, rhs_blas=None,
        output_shape=out.shape,
    )
    if ctx.numerics.is_onnx:
        scale = onnx_output_scale(in_q.single_scale, w_q.scale.reshape(-1), out_q.single_scale)
        params = replace(params, onnx_scale=np.full(cols, scale[0], np.float32))
    if y.data is not None:
        params = _with_constant_rhs(params, y.data)
    return params


def _with_constant_rhs(p: BatchMatMulParams, rhs: np.ndarray) -> BatchMatMulParams:
    return replace(p, rhs_blas=np.ascontiguousarray(_offset_operand(rhs, p.rhs_zero_point, p.adj_y, p.blas_dtype)))


def _offset_operand(values: np.ndarray, zero_point: int, adjoint: bool, dtype: np.dtype) -> np.ndarray:
    operand = values.astype(dtype)
    if zero_point:
        operand -= zero_point
    return operand.swapaxes(-1, -2) if adjoint else operand


def reference(p: BatchMatMulParams, inputs) -> list[np.ndarray]:
    x = inputs[0].astype(np.int64) - p.lhs_zero_point
    y = inputs[1].astype(np.int64) - p.rhs_zero_point
    if p.adj_x:
        x = x.swapaxes(-1, -2)
    if p.adj_y:
        y = y.swapaxes(-1, -2)
    batch = p.output_shape[:-2]
    x = np.broadcast_to(x, (*batch, *x.shape[-2:]))
    y = np.broadcast_to(y, (*batch, *y.shape[-2:]))
    acc = np.zeros(p.output_shape, np.int64)
    for b in itertools.product(*(range(d) for d in batch)):
        for i in range(p.output_shape[-2]):
            for j in range(p.output_shape[-1]):
                acc[(*b, i, j)] = sum(int(x[(*b, i, k)]) * int(y[(*b, k, j)]) for k in range(p.depth))
    if p.onnx_scale is not None:
        return [requantize_float32_array(acc, p.onnx_scale[0], p.output_zero_point, p.lo, p.hi).astype(np.int8)]
    scaled = multiply_by_quantized_multiplier_array(acc, p.multiplier[0], p.shift[0], p.rounding)
    return [np.clip(scaled + p.output_zero_point, p.lo, p.hi).astype(inputs[0].dtype)]


def kernel(p: BatchMatMulParams, inputs, outputs) -> None:
    x = _offset_operand(inputs[0], p.lhs_zero_point, p.adj_x, p.blas_dtype)
    y = p.rhs_blas if p.rhs_blas is not None else _offset_operand(inputs[1], p.rhs_zero_point, p.adj_y,
                                                                    p.blas_dtype)
    acc = np.matmul(x, y)
    cols = p.output_shape[-1]
    if p.onnx_scale is not None:
        requantize_channels_float32(acc.reshape(-1, cols), np.zeros(0, np.int64), p.onnx_scale, p.output_zero_point,
                                    p.lo, p.hi, outputs[0].reshape(-1, cols))
        return
    requantize_channels(acc.reshape(-1, cols), np.zeros(0, np.int64), p.multiplier, p.shift, p.output_zero_point,
                        p.lo, p.hi, int(p.rounding), outputs[0].reshape(-1, cols))


def macs(ctx: OpContext) -> int:
    x = ctx.input(0)
    depth = x.shape[-2] if ctx.attrs.adj_x else x.shape[-1]
    return ctx.output().num_elements * depth


C_MAX_BATCH_RANK = 3


def _batch_strides(shape: tuple[int, ...], batch: tuple[int, ...]) -> list[int]:
    """Element strides of an operand's batch axes against the output's (0 where it broadcasts)."""
    own = (1,) * (len(batch) - len(shape) + 2) + shape[:-2]
    strides, step = [], shape[-1] * shape[-2]
    for size in reversed(own):
        strides.append(step if size > 1 else 0)
        step *= size
    return list(reversed(strides))


def c_emit(p: BatchMatMulParams, ctx: OpContext) -> CCall:
    x, y = ctx.input(0), ctx.input(1)
    batch = p.output_shape[:-2]
    if len(batch) > C_MAX_BATCH_RANK:
        raise ctx.unsupported(f"the C kernel takes at most {C_MAX_BATCH_RANK} batch axes, got {len(batch)}")
    pad = C_MAX_BATCH_RANK - len(batch)
    rows, cols = p.output_shape[-2:]
    x_cols, y_cols = x.shape[-1], y.shape[-1]
    multiplier, shift, rounding = int(p.multiplier[0]), int(p.shift[0]), int(p.rounding)
    if p.onnx_scale is not None:
        multiplier, shift, rounding = int(float32_bits(p.onnx_scale)[0]), 0, int(Rounding.FLOAT32)
    return CCall("batch_matmul", "edg_batch_matmul_s8", "edg_batch_matmul_params_t", {
        "batch": (1,) * pad + batch,
        "lhs_batch_stride": (0,) * pad + tuple(_batch_strides(x.shape, batch)),
        "rhs_batch_stride": (0,) * pad + tuple(_batch_strides(y.shape, batch)),
        "rows": rows, "cols": cols, "depth": p.depth,
        # x[i, k] is x[k, i] under adj_x; y[k, j] is y[j, k] under adj_y.
        "lhs_row_stride": 1 if p.adj_x else x_cols, "lhs_depth_stride": x_cols if p.adj_x else 1,
        "rhs_depth_stride": 1 if p.adj_y else y_cols, "rhs_col_stride": y_cols if p.adj_y else 1,
        "lhs_zero_point": p.lhs_zero_point, "rhs_zero_point": p.rhs_zero_point,
        "output_zero_point": p.output_zero_point, "multiplier": multiplier, "shift": shift,
        "rounding": rounding, "lo": p.lo, "hi": p.hi})


SPEC = OpSpec(name="BATCH_MATMUL", prepare=prepare, reference=reference, kernel=kernel, macs=macs, c_emit=c_emit,
              numerics=ALL_NUMERICS, c_numerics=ALL_NUMERICS)
