"""MUL: int8 and int16 (zero points of 0), with broadcasting.

out = clamp(MBQM((a - za) * (b - zb)) + z_out). The references derive the one multiplier
s_a * s_b / s_out differently: TFLite multiplies and divides the float32 scales in float32,
TFLite Micro in double. int8 runs as one table of all 256 x 256 results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edgeml.codegen.c_values import CCall, CFloat
from edgeml.ir.dtypes import DType
from edgeml.ops.base import ALL_NUMERICS, Numerics, OpContext, OpSpec
from edgeml.ops.common import Activation, activation_range
from edgeml.ops.conv_common import onnx_activation_range
from edgeml.ops.elementwise import (
    ELEMENTWISE_ROUNDING,
    BroadcastPlan,
    broadcast_int64,
    c_broadcast,
    inplace_over_full_inputs,
    per_tensor_quant,
    prepare_binary,
    run_lookup2d,
)
from edgeml.quant.requant import (
    Rounding,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_array,
    onnx_qlinear_mul,
    onnx_qlinear_mul_ratio,
    quantize_multiplier,
)


@dataclass(frozen=True)
class MulAttrs:
    activation: Activation = Activation.NONE
    onnx_value_offset: int = 0  # onnxruntime numerics: 128 when the ONNX model stores uint8 (see ADD)


@dataclass(frozen=True, eq=False)
class MulParams:
    plan: BroadcastPlan
    offsets: tuple[int, int]
    multiplier: int
    shift: int
    output_offset: int
    lo: int
    hi: int
    rounding: Rounding
    table: np.ndarray  # int8: every (a, b) result; int16: empty
    onnx_mul: tuple | None = None  # onnxruntime numerics (QLinearMul): the arguments of onnx_qlinear_mul


def real_multiplier(ctx: OpContext, s1: float, s2: float, s_out: float) -> float:
    if ctx.numerics is Numerics.TFLITE:
        return float(np.float32(s1) * np.float32(s2) / np.float32(s_out))
    return s1 * s2 / s_out


def prepare(ctx: OpContext) -> MulParams:
    plan = prepare_binary(ctx, DType.INT8, DType.INT16)
    a, b, out = ctx.input(0), ctx.input(1), ctx.output()
    if out.dtype is not a.dtype:
        raise ctx.unsupported(f"output is {out.dtype.value}, inputs are {a.dtype.value}")
    (s1, z1), (s2, z2) = per_tensor_quant(ctx, a, "input 0"), per_tensor_quant(ctx, b, "input 1")
    s_out, z_out = per_tensor_quant(ctx, out, "output")
    if ctx.numerics.is_onnx:
        return _prepare_onnx(ctx, plan, (s1, s2, s_out), (z1, z2, z_out))
    if a.dtype is DType.INT16 and (z1, z2, z_out) != (0, 0, 0):
        raise ctx.unsupported("int16 operands need zero points of 0")
    attrs: MulAttrs = ctx.attrs or MulAttrs()
    lo, hi = activation_range(ctx, attrs.activation, out)
    rounding = ELEMENTWISE_ROUNDING
    try:
        multiplier, shift = quantize_multiplier(real_multiplier(ctx, s1, s2, s_out), rounding)
    except ValueError as exc:
        raise ctx.unsupported(str(exc)) from None
    table = (_pair_table(-z1, -z2, multiplier, shift, z_out, lo, hi, int(rounding))
             if a.dtype is DType.INT8 else np.zeros(0, np.int8))
    return MulParams(plan, (-z1, -z2), multiplier, shift, z_out, lo, hi, rounding, table)


def _prepare_onnx(ctx: OpContext, plan: BroadcastPlan, scales: tuple[float, float, float],
                  zero_points: tuple[int, int, int]) -> MulParams:
    if ctx.input(0).dtype is not DType.INT8:
        raise ctx.unsupported("onnxruntime numerics cover int8 MUL only")
    attrs = ctx.attrs or MulAttrs()
    lo, hi = onnx_activation_range(ctx, attrs.activation, ctx.output())
    form = (scales, zero_points, attrs.onnx_value_offset, lo, hi)
    values = np.arange(-128, 128, dtype=np.int64)
    table = onnx_qlinear_mul(values[:, None], values[None, :], *form).astype(np.int8).reshape(-1)
    return MulParams(plan, (0, 0), 0, 0, zero_points[2], lo, hi, Rounding.SINGLE, table, onnx_mul=form)


@njit(cache=True, inline="always")
def _mul_one(x1, x2, multiplier, shift, offset, lo, hi, rounding):
    value = multiply_by_quantized_multiplier(x1 * x2, multiplier, shift, rounding) + offset
    return min(max(value, lo), hi)


@njit(cache=True)
def _pair_table(offset1, offset2, multiplier, shift, offset, lo, hi, rounding):
    table = np.empty(256 * 256, np.int8)
    for i in range(256):
        for j in range(256):
            table[i * 256 + j] = _mul_one(i - 128 + offset1, j - 128 + offset2, multiplier, shift, offset, lo, hi,
                                          rounding)
    return table


@njit(cache=True)
def _mul_int16(a, b, a_starts, b_starts, run_length, a_step, b_step, multiplier, shift, offset, lo, hi,
               rounding, out):
    for r in range(a_starts.shape[0]):
        a0, b0, o0 = a_starts[r], b_starts[r], r * run_length
        for i in range(run_length):
            out[o0 + i] = _mul_one(np.int64(a[a0 + i * a_step]), np.int64(b[b0 + i * b_step]), multiplier, shift,
                                   offset, lo, hi, rounding)


def reference(p: MulParams, inputs) -> list[np.ndarray]:
    a, b = broadcast_int64(inputs[0], inputs[1])
    if p.onnx_mul is not None:
        return [onnx_qlinear_mul(a, b, *p.onnx_mul).astype(inputs[0].dtype)]
    product = (a + p.offsets[0]) * (b + p.offsets[1])
    value = multiply_by_quantized_multiplier_array(product, p.multiplier, p.shift, p.rounding) + p.output_offset
    return [np.clip(value, p.lo, p.hi).astype(inputs[0].dtype)]


def kernel(p: MulParams, inputs, outputs) -> None:
    a, b, out = inputs[0], inputs[1], outputs[0]
    if a.dtype == np.int8:
        run_lookup2d(p.plan, p.table, a, b, out)
        return
    plan = p.plan
    _mul_int16(a.reshape(-1), b.reshape(-1), plan.a_starts, plan.b_starts, plan.run_length, plan.a_step,
               plan.b_step, p.multiplier, p.shift, p.output_offset, p.lo, p.hi, int(p.rounding), out.reshape(-1))


def macs(ctx: OpContext) -> int:
    return ctx.output().num_elements


def c_emit(p: MulParams, ctx: OpContext) -> CCall:
    """One requantization per element (the 64 KB int8 pair table stays on the host); onnxruntime's
    QLinearMul in float32 per element."""
    int8 = ctx.input(0).dtype is DType.INT8
    if p.onnx_mul is not None:
        scales, zero_points, offset, lo, hi = p.onnx_mul
        return CCall(module="mul", function="edg_mul_s8_onnx", params_type="edg_mul_params_t", fields={
            "bc": c_broadcast(ctx), "offset1": -zero_points[0], "offset2": -zero_points[1],
            "output_offset": zero_points[2], "lo": lo, "hi": hi,
            "onnx_ratio": CFloat(float(onnx_qlinear_mul_ratio(scales))), "onnx_value_offset": offset})
    return CCall(
        module="mul", function="edg_mul_s8" if int8 else "edg_mul_s16", params_type="edg_mul_params_t",
        fields={
            "bc": c_broadcast(ctx), "offset1": p.offsets[0], "offset2": p.offsets[1], "multiplier": p.multiplier,
            "shift": p.shift, "output_offset": p.output_offset, "lo": p.lo, "hi": p.hi, "rounding": int(p.rounding),
        },
    )


SPEC = OpSpec(name="MUL", prepare=prepare, reference=reference, kernel=kernel,
              macs=macs, inplace=inplace_over_full_inputs, c_emit=c_emit, numerics=ALL_NUMERICS,
              c_numerics=ALL_NUMERICS)
